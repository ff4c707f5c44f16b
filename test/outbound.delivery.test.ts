// Outbound delivery, one attempt at a time (deliverOutbound, what the outbound_deliver task runs),
// against a real HTTP receiver on loopback that verifies every attempt with the standardwebhooks
// library. No worker runs here: the schedule is read from the run_at Intake gives each next
// attempt's job, never waited for.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rotateSubscriptionSecretAs } from '../api/outbound.ts';
import { createUser } from '../core/access.ts';
import { sweepOutboundEvents } from '../worker/outbound/sweeper.ts';
import { deliverOutbound, observeOutboundAttempts, type OutboundAttemptResult, type OutboundDeliverOptions } from '../worker/outbound/deliver.ts';
import { MAX_ATTEMPTS, RETRY_DELAYS_MS } from '../worker/outbound/schedule.ts';
import { fanOutOutboundEvent } from '../worker/tasks/outbound_fanout.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { deliverJob, deliverOptions, LOOPBACK_POLICY, makeSubscription, startReceiver, type TestReceiver } from './support/outbound.ts';
import { makeTenant } from './support/server.ts';

let db: TestDatabase;
let tenant: string;
let receiver: TestReceiver;
let options: OutboundDeliverOptions;

beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await makeTenant(db.pool, 'acme');
  receiver = await startReceiver();
  options = deliverOptions({ random: () => 0.5 }); // no jitter unless a test asks for it
});
afterEach(() => {
  receiver.requests.length = 0;
  receiver.answer = () => ({ status: 200, body: 'ok' });
  observeOutboundAttempts(null);
});
afterAll(async () => {
  await options?.agent.close();
  await receiver?.close();
  await db?.drop();
});

/** A subscription on the receiver (its secret verifies), and one delivery to it of a fresh client.created event. */
async function subscribed(path: string, extra: Record<string, unknown> = {}) {
  const sub = await makeSubscription(db.pool, 'acme', { url: `${receiver.url}${path}`, event_types: ['client.*'], ...extra });
  receiver.secrets = [sub.secret];
  return sub;
}

async function newDelivery(subscriptionId: string): Promise<{ deliveryId: string; eventId: string }> {
  await db.pool.query(`insert into psa.clients (tenant, client_name) values ($1, 'Client ' || gen_random_uuid())`, [tenant]);
  await sweepOutboundEvents(db.pool);
  const { rows: events } = await db.pool.query(`select event_id from intake.outbound_events where fanned_out_at is null and fanout_enqueued_at is not null`);
  for (const e of events) await fanOutOutboundEvent(db.pool, tenant, e.event_id);
  const { rows } = await db.pool.query(
    `select d.delivery_id, d.event_id from intake.outbound_deliveries d where d.subscription_id = $1 order by d.created_at desc limit 1`,
    [subscriptionId],
  );
  return { deliveryId: rows[0].delivery_id, eventId: rows[0].event_id };
}

/**
 * One attempt as the worker runs it: the job that brought it is done once the task returns
 * (graphile-worker deletes it), so what is queued afterwards is the next attempt Intake scheduled.
 */
async function runAttempt(deliveryId: string, opts: OutboundDeliverOptions = options) {
  await db.pool.query(`select graphile_worker.complete_jobs(array(select id from graphile_worker.jobs where key = $1))`, [`outbound_delivery:${deliveryId}`]);
  return deliverOutbound(db.pool, tenant, deliveryId, 'scheduled', opts);
}

async function delivery(id: string) {
  return (await db.pool.query(`select * from intake.outbound_deliveries where delivery_id = $1`, [id])).rows[0];
}

async function attempts(id: string) {
  return (await db.pool.query(`select * from intake.outbound_attempts where delivery_id = $1 order by attempt_number`, [id])).rows;
}

it('posts the payload signed per Standard Webhooks; the receiver verifies it with standardwebhooks', async () => {
  const sub = await subscribed('/ok', { headers: { 'X-Team': 'ops' } });
  const { deliveryId, eventId } = await newDelivery(sub.id);
  const seen: OutboundAttemptResult[] = [];
  observeOutboundAttempts((r) => seen.push(r));
  expect(await runAttempt(deliveryId)).toBe('succeeded');
  expect(receiver.requests).toHaveLength(1);
  const [req] = receiver.requests;
  expect(req!.verifiedBy).toEqual([0]);
  expect(req!.headers['webhook-id']).toBe(eventId);
  expect(req!.headers['x-team']).toBe('ops');
  expect(req!.headers['content-type']).toBe('application/json');
  const body = JSON.parse(req!.body);
  expect(Object.keys(body).sort()).toEqual(['data', 'timestamp', 'type']);
  expect(body.type).toBe('client.created');
  expect(body.data).toMatchObject({ entity: 'client', version: 1, object: { client_name: expect.stringMatching(/^Client /) } });
  expect(await delivery(deliveryId)).toMatchObject({ status: 'succeeded', attempt_count: 1, last_response_status: 200, last_error: null, next_attempt_at: null });
  const [attempt] = await attempts(deliveryId);
  expect(attempt).toMatchObject({ attempt_number: 1, trigger: 'scheduled', response_status: 200, response_body: 'ok', succeeded: true, error_message: null });
  expect(attempt.request_headers['webhook-id']).toBe(eventId);
  expect(attempt.duration_ms).toBeGreaterThanOrEqual(0);
  expect(seen).toEqual([{ tenant, subscriptionId: sub.id, eventType: 'client.created', outcome: 'succeeded', status: 200, durationMs: expect.any(Number) }]);
  // a job that runs again after the success sends nothing
  expect(await runAttempt(deliveryId)).toBe('not_pending');
  expect(receiver.requests).toHaveLength(1);
});

it('schedules Svix\'s retries itself (read from run_at), keeps each attempt, and fails after the eighth', async () => {
  const sub = await subscribed('/down');
  receiver.answer = () => ({ status: 503, body: 'x'.repeat(30_000), headers: { 'x-why': 'maintenance' } });
  const { deliveryId, eventId } = await newDelivery(sub.id);
  const delays: number[] = [];
  for (let n = 1; n <= MAX_ATTEMPTS; n++) {
    const before = Date.now();
    const outcome = await runAttempt(deliveryId);
    const job = await deliverJob(db.pool, deliveryId);
    if (n < MAX_ATTEMPTS) {
      expect(outcome).toBe('retrying');
      expect(job).toBeDefined();
      delays.push(job!.run_at.getTime() - before);
      const row = await delivery(deliveryId);
      expect(row.status).toBe('pending');
      expect(Math.abs(row.next_attempt_at.getTime() - job!.run_at.getTime())).toBeLessThan(1000);
    } else {
      expect(outcome).toBe('failed');
      expect(job).toBeUndefined();
    }
  }
  RETRY_DELAYS_MS.forEach((expected, i) => {
    expect(delays[i]).toBeGreaterThanOrEqual(expected - 50);
    expect(delays[i]).toBeLessThan(expected + 2000);
  });
  expect(RETRY_DELAYS_MS).toEqual([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
  const kept = await attempts(deliveryId);
  expect(kept.map((a) => a.attempt_number)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  expect(kept[0]).toMatchObject({ response_status: 503, succeeded: false, error_message: 'HTTP 503', response_headers: expect.objectContaining({ 'x-why': 'maintenance' }) });
  expect(kept[0].response_body).toHaveLength(20 * 1024);
  // every attempt: the same webhook-id, its own timestamp, verified by the receiver
  expect(new Set(receiver.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([eventId]));
  expect(receiver.requests.every((r) => r.verifiedBy.length === 1)).toBe(true);
  expect(await delivery(deliveryId)).toMatchObject({ status: 'failed', attempt_count: 8, last_response_status: 503, next_attempt_at: null });
});

it('jitters each delay by at most ±20 %', async () => {
  const sub = await subscribed('/jitter');
  receiver.answer = () => ({ status: 500 });
  for (const [random, factor] of [[0, 0.8], [0.999999, 1.2]] as const) {
    const { deliveryId } = await newDelivery(sub.id);
    const jittered = { ...options, random: () => random };
    await runAttempt(deliveryId, jittered); // attempt 1 → 5 s
    await runAttempt(deliveryId, jittered); // attempt 2 → 5 min
    const before = Date.now();
    await runAttempt(deliveryId, jittered); // attempt 3 → 30 min
    const delay = (await deliverJob(db.pool, deliveryId))!.run_at.getTime() - before;
    expect(Math.abs(delay - 1_800_000 * factor)).toBeLessThan(2000);
  }
});

it('waits at least 60 s after a 429 or a timeout, and honours a longer Retry-After within bounds', async () => {
  const sub = await subscribed('/slow');
  const nextDelay = async (answer: () => { status: number; headers?: Record<string, string>; hang?: boolean }, opts = options) => {
    receiver.answer = answer;
    const { deliveryId } = await newDelivery(sub.id);
    const before = Date.now();
    await runAttempt(deliveryId, opts);
    return { delay: (await deliverJob(db.pool, deliveryId))!.run_at.getTime() - before, deliveryId };
  };
  expect((await nextDelay(() => ({ status: 429 }))).delay).toBeGreaterThanOrEqual(60_000 - 50);
  expect((await nextDelay(() => ({ status: 429 }))).delay).toBeLessThan(62_000);
  const retryAfter = await nextDelay(() => ({ status: 429, headers: { 'retry-after': '600' } }));
  expect(Math.abs(retryAfter.delay - 600_000)).toBeLessThan(2000);
  // an hour's cap at the first step: a Retry-After of a day is not taken at face value
  const capped = await nextDelay(() => ({ status: 503, headers: { 'retry-after': '86400' } }));
  expect(Math.abs(capped.delay - 3_600_000)).toBeLessThan(2000);
  const quick = { ...options, timeoutMs: 300 };
  const timedOut = await nextDelay(() => ({ status: 200, hang: true }), quick);
  expect(timedOut.delay).toBeGreaterThanOrEqual(60_000 - 50);
  const [attempt] = await attempts(timedOut.deliveryId);
  expect(attempt).toMatchObject({ response_status: null, succeeded: false, error_message: 'timed out after 0.3 s' });
});

it('treats a redirect as a failure and does not follow it', async () => {
  const target = await startReceiver();
  try {
    const sub = await subscribed('/moved');
    receiver.answer = () => ({ status: 302, headers: { location: `${target.url}/elsewhere` } });
    const { deliveryId } = await newDelivery(sub.id);
    expect(await runAttempt(deliveryId)).toBe('retrying');
    expect(target.requests).toHaveLength(0);
    const [attempt] = await attempts(deliveryId);
    expect(attempt.error_message).toMatch(/^HTTP 302: redirects are not followed/);
  } finally {
    await target.close();
  }
});

it('disables the subscription when the receiver answers 410, and sends it nothing more', async () => {
  const sub = await subscribed('/gone');
  receiver.answer = () => ({ status: 410 });
  const first = await newDelivery(sub.id);
  const second = await newDelivery(sub.id);
  expect(await runAttempt(first.deliveryId)).toBe('failed');
  const { rows } = await db.pool.query(`select is_active, auto_disabled_at, disabled_reason from intake.outbound_subscriptions where subscription_id = $1`, [sub.id]);
  expect(rows[0]).toMatchObject({ is_active: false, auto_disabled_at: expect.any(Date), disabled_reason: 'the receiver answered 410 Gone' });
  expect(await deliverJob(db.pool, first.deliveryId)).toBeUndefined();
  expect(await runAttempt(second.deliveryId)).toBe('disabled');
  expect(receiver.requests).toHaveLength(1);
  expect(await delivery(second.deliveryId)).toMatchObject({ status: 'failed', attempt_count: 0, last_error: 'not sent: the subscription is disabled (the receiver answered 410 Gone)' });
});

it('disables a subscription that has failed without a success for INTAKE_OUTBOUND_DISABLE_AFTER_HOURS (5 days)', async () => {
  const sub = await subscribed('/failing');
  receiver.answer = () => ({ status: 500 });
  const { deliveryId } = await newDelivery(sub.id);
  await runAttempt(deliveryId);
  let { rows } = await db.pool.query(`select is_active, failing_since from intake.outbound_subscriptions where subscription_id = $1`, [sub.id]);
  expect(rows[0]).toMatchObject({ is_active: true, failing_since: expect.any(Date) });
  // the streak began 5 days and a minute ago
  await db.pool.query(`update intake.outbound_subscriptions set failing_since = now() - interval '120 hours 1 minute' where subscription_id = $1`, [sub.id]);
  await runAttempt(deliveryId);
  ({ rows } = await db.pool.query(`select is_active, auto_disabled_at, disabled_reason from intake.outbound_subscriptions where subscription_id = $1`, [sub.id]));
  expect(rows[0].is_active).toBe(false);
  expect(rows[0].auto_disabled_at).toBeInstanceOf(Date);
  expect(rows[0].disabled_reason).toMatch(/^every attempt failed for 120 hours \(since .* UTC\); last: HTTP 500$/);
  // it shows in the DBA view of what is failing and why
  const { rows: failing } = await db.pool.query(`select * from intake.outbound_failing where subscription_id = $1`, [sub.id]);
  expect(failing[0]).toMatchObject({ is_active: false, last_error: 'HTTP 500', last_response_status: 500 });
});

it('a success ends the failing streak', async () => {
  const sub = await subscribed('/flaky');
  receiver.answer = () => ({ status: 500 });
  const { deliveryId } = await newDelivery(sub.id);
  await runAttempt(deliveryId);
  receiver.answer = () => ({ status: 204 });
  expect(await runAttempt(deliveryId)).toBe('succeeded');
  const { rows } = await db.pool.query(`select failing_since from intake.outbound_subscriptions where subscription_id = $1`, [sub.id]);
  expect(rows[0].failing_since).toBeNull();
});

describe('rotation overlap', () => {
  it('signs with every live secret during the overlap, then with the new one only', async () => {
    const sub = await subscribed('/rotating');
    const { rows: [{ tenant: t }] } = await db.pool.query(`select tenant from intake.outbound_subscriptions where subscription_id = $1`, [sub.id]);
    // rotate the way the API does: the SQL function, as an admin of the tenant
    const owner = await db.pool.connect();
    const admin = await createUser(owner, 'acme', { email: `rot-${Date.now()}@acme.example`, role: 'admin' }).finally(() => owner.release());
    let next = '';
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      await client.query(`select set_config('role', 'intake_user', true), set_config('intake.tenant', $1, true), set_config('intake.user_id', $2, true)`, [t, admin.user_id]);
      next = (await rotateSubscriptionSecretAs(client, t, { masterKey: options.masterKey, outbound: LOOPBACK_POLICY }, sub.id, 3600)).secret;
      await client.query('commit');
    } finally {
      client.release();
    }
    receiver.secrets = [sub.secret, next];
    const during = await newDelivery(sub.id);
    await runAttempt(during.deliveryId);
    const signed = receiver.requests.at(-1)!;
    expect((signed.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    expect(signed.verifiedBy).toEqual([0, 1]); // a receiver with either secret verifies it
    // the overlap is over
    await db.pool.query(`update intake_private.outbound_subscription_secrets set expires_at = now() - interval '1 second' where subscription_id = $1 and expires_at is not null`, [sub.id]);
    const after = await newDelivery(sub.id);
    await runAttempt(after.deliveryId);
    const last = receiver.requests.at(-1)!;
    expect((last.headers['webhook-signature'] as string).split(' ')).toHaveLength(1);
    expect(last.verifiedBy).toEqual([1]);
  });
});

it('keeps an error without a response as its message', async () => {
  const sub = await makeSubscription(db.pool, 'acme', { url: 'http://127.0.0.1:9/nothing-listens', event_types: ['client.*'] });
  const { deliveryId } = await newDelivery(sub.id);
  expect(await runAttempt(deliveryId)).toBe('retrying');
  const [attempt] = await attempts(deliveryId);
  expect(attempt.response_status).toBeNull();
  expect(attempt.error_message).toMatch(/ECONNREFUSED/);
});

it("holds a subscription to its rate limit without counting the wait as an attempt", async () => {
  const sub = await subscribed('/limited', { rate_limit_per_minute: 1 });
  const first = await newDelivery(sub.id);
  const second = await newDelivery(sub.id);
  expect(await runAttempt(first.deliveryId)).toBe('succeeded');
  const before = Date.now();
  expect(await runAttempt(second.deliveryId)).toBe('rate_limited');
  expect(receiver.requests.filter((r) => r.path === '/limited')).toHaveLength(1);
  expect(await attempts(second.deliveryId)).toHaveLength(0);
  const job = await deliverJob(db.pool, second.deliveryId);
  expect(job!.run_at.getTime() - before).toBeGreaterThanOrEqual(59_000);
  expect(await delivery(second.deliveryId)).toMatchObject({ status: 'pending', attempt_count: 0 });
});
