// Outbound webhooks with the real worker: a change made by an inbound webhook's action reaches a
// subscriber signed, through sweeper → fan-out → delivery; test events, retries and recoveries
// from the API go out too. And a worker killed with SIGKILL in the middle of fanning out and
// delivering loses nothing: once another worker has run, every (event, subscription) has exactly
// one delivery, every one succeeded, and the only repeats the receiver saw carry a webhook-id
// it had already seen (Standard Webhooks receivers dedupe on it).
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aesGcmBox } from '../core/crypto.ts';
import { PROJECT_ROOT } from '../core/env.ts';
import { subscriptionSecretContext } from '../core/outboundSubscriptions.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { graphqlClient, ok, userWithKey, type GraphqlRequest } from './support/graphql.ts';
import { startReceiver, type TestReceiver } from './support/outbound.ts';
import { makeTenant, makeWebhook, startTestServer, testMasterKey, waitFor, type TestServer } from './support/server.ts';

const OUTBOUND_ENV = { INTAKE_OUTBOUND_ALLOW_CIDRS: '127.0.0.0/8', INTAKE_OUTBOUND_ALLOW_HTTP: 'true', INTAKE_OUTBOUND_SWEEP_MS: '50' };

describe('through the running worker', () => {
  let db: TestDatabase;
  let server: TestServer;
  let receiver: TestReceiver;
  let admin: GraphqlRequest;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startTestServer(db.url, { env: OUTBOUND_ENV });
    receiver = await startReceiver();
    await makeTenant(db.pool, 'acme');
    admin = graphqlClient(server.url, (await userWithKey(db.pool, 'acme', 'admin')).key);
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
    await db?.drop();
  });

  it('delivers the ticket an inbound webhook created, signed with the secret the API showed once', async () => {
    const { createOutboundSubscription: created } = await ok(admin, `mutation ($input: CreateOutboundSubscriptionInput!) {
      createOutboundSubscription(input: $input) { secret outboundSubscription { subscriptionId } } }`,
    { input: { url: `${receiver.url}/psa`, eventTypes: ['ticket.created'] } });
    receiver.secrets = [created.secret];
    const hook = await makeWebhook(db.pool, 'acme', {
      name: 'Alerts', slug: 'alerts', auth: { auth_type: 'bearer' },
      handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } },
    });
    const res = await fetch(`${server.url}/api/inbound/acme/alerts`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${hook.secret}` }, body: JSON.stringify({ title: 'Disk full on db-01' }),
    });
    expect(res.status).toBe(200);
    const request = await waitFor(async () => receiver.requests.find((r) => r.path === '/psa'), 15_000, 'the ticket.created delivery');
    expect(request.verifiedBy).toEqual([0]);
    expect(JSON.parse(request.body)).toMatchObject({ type: 'ticket.created', data: { object: { title: 'Disk full on db-01', source: expect.any(String) } } });
    const subscriptionId = created.outboundSubscription.subscriptionId;
    const { outboundSubscription } = await ok(admin, `query ($id: UUID!) { outboundSubscription(subscriptionId: $id) {
      deliveries { nodes { status attemptCount event { eventType } attempts { nodes { attemptNumber responseStatus succeeded } } } } } }`, { id: subscriptionId });
    await waitFor(async () => {
      const { rows } = await db.pool.query(`select status from intake.outbound_deliveries where subscription_id = $1`, [subscriptionId]);
      return rows[0]?.status === 'succeeded' ? true : undefined;
    }, 5000, 'the delivery to be recorded');
    expect(outboundSubscription.deliveries.nodes[0].event.eventType).toBe('ticket.created');
  });

  it('sends a test event, retries a delivery with the same webhook-id, and recovers failed ones with progress', async () => {
    const { createOutboundSubscription: created } = await ok(admin, `mutation ($input: CreateOutboundSubscriptionInput!) {
      createOutboundSubscription(input: $input) { secret outboundSubscription { subscriptionId } } }`,
    { input: { url: `${receiver.url}/ops`, eventTypes: ['client.*'] } });
    const id = created.outboundSubscription.subscriptionId;
    receiver.secrets = [created.secret];
    const { sendOutboundTestEvent } = await ok(admin, `mutation ($id: UUID!) { sendOutboundTestEvent(input: {subscriptionId: $id, eventType: "client.created"}) { outboundDelivery { deliveryId status } } }`, { id });
    const testDelivery = sendOutboundTestEvent.outboundDelivery.deliveryId;
    const test = await waitFor(async () => receiver.requests.find((r) => r.path === '/ops'), 15_000, 'the test event');
    expect(test.verifiedBy).toEqual([0]);
    expect(JSON.parse(test.body)).toMatchObject({ type: 'client.created', data: { test: true } });

    await waitFor(async () => ((await db.pool.query(`select status from intake.outbound_deliveries where delivery_id = $1`, [testDelivery])).rows[0].status === 'succeeded' ? true : undefined));
    await ok(admin, `mutation ($id: UUID!) { retryOutboundDelivery(input: {deliveryId: $id}) { outboundDelivery { status } } }`, { id: testDelivery });
    await waitFor(async () => (receiver.requests.filter((r) => r.path === '/ops').length === 2 ? true : undefined), 15_000, 'the retry');
    const [first, again] = receiver.requests.filter((r) => r.path === '/ops');
    expect(again!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    await waitFor(async () => ((await db.pool.query(`select count(*)::int as n from intake.outbound_attempts where delivery_id = $1`, [testDelivery])).rows[0].n === 2 ? true : undefined));
    const { rows: tries } = await db.pool.query(`select attempt_number, trigger from intake.outbound_attempts where delivery_id = $1 order by attempt_number`, [testDelivery]);
    expect(tries).toEqual([{ attempt_number: 1, trigger: 'test' }, { attempt_number: 2, trigger: 'test' }]);

    // three client events whose deliveries failed (as after their last attempt)
    const since = new Date(Date.now() - 1000).toISOString();
    const tenant = (await db.pool.query(`select tenant from psa.tenants where slug = 'acme'`)).rows[0].tenant;
    receiver.answer = () => ({ status: 500 });
    for (const name of ['A', 'B', 'C']) await db.pool.query(`insert into psa.clients (tenant, client_name) values ($1, $2)`, [tenant, name]);
    await waitFor(async () => ((await db.pool.query(`select count(*)::int as n from intake.outbound_deliveries where subscription_id = $1 and attempt_count >= 1 and status = 'pending'`, [id])).rows[0].n === 3 ? true : undefined), 15_000, 'three first attempts');
    await db.pool.query(`update intake.outbound_deliveries set status = 'failed', next_attempt_at = null where subscription_id = $1 and status = 'pending'`, [id]);
    await db.pool.query(`select graphile_worker.remove_job(key) from graphile_worker.jobs where task_identifier = 'outbound_deliver'`);
    receiver.answer = () => ({ status: 200 });
    const { outboundRecoveryCount } = await ok(admin, `query ($id: UUID!, $since: Datetime!) { outboundRecoveryCount(subscriptionId: $id, since: $since) }`, { id, since });
    expect(outboundRecoveryCount).toBe(3);
    const { startOutboundRecovery } = await ok(admin, `mutation ($id: UUID!, $since: Datetime!) { startOutboundRecovery(input: {subscriptionId: $id, since: $since}) { outboundRecovery { recoveryId total status } } }`, { id, since });
    expect(startOutboundRecovery.outboundRecovery).toMatchObject({ total: 3, status: 'running' });
    const recoveryId = startOutboundRecovery.outboundRecovery.recoveryId;
    await waitFor(async () => {
      const { outboundRecovery } = await ok(admin, `query ($id: UUID!) { outboundRecovery(recoveryId: $id) { status processed total } }`, { id: recoveryId });
      return outboundRecovery.status === 'finished' ? outboundRecovery : undefined;
    }, 15_000, 'the recovery');
    await waitFor(async () => ((await db.pool.query(`select count(*)::int as n from intake.outbound_deliveries where subscription_id = $1 and status = 'succeeded'`, [id])).rows[0].n === 4 ? true : undefined), 15_000, 'the recovered deliveries');
  });
});

describe('kill -9', () => {
  let db: TestDatabase;
  let receiver: TestReceiver;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await receiver?.close();
    await db?.drop();
  });

  function worker(): ChildProcess {
    const child = spawn(process.execPath, ['cli/intake.ts', 'worker'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'error', DATABASE_URL: db.url, INTAKE_MASTER_KEY: testMasterKey, ...OUTBOUND_ENV },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    return child;
  }

  it('a worker killed mid-fan-out loses nothing and repeats only what webhook-id dedupes', async () => {
    const tenant = await makeTenant(db.pool, 'crash');
    const SUBSCRIPTIONS = 400;
    const EVENTS = 5;
    // one signing secret for all (the receiver verifies with it), sealed per subscription (its AAD names it)
    const secret = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    const box = aesGcmBox(Buffer.from(testMasterKey, 'base64'));
    const { rows: subs } = await db.pool.query(
      `insert into intake.outbound_subscriptions (tenant, url, event_types)
       select $1, $2 || '/s/' || n, '{client.created}' from generate_series(1, $3::int) n returning subscription_id`,
      [tenant, receiver.url, SUBSCRIPTIONS],
    );
    await db.pool.query(
      `insert into intake_private.outbound_subscription_secrets (tenant, subscription_id, secret) select $1, unnest($2::uuid[]), unnest($3::bytea[])`,
      [tenant, subs.map((s) => s.subscription_id), subs.map((s) => box.seal(secret, subscriptionSecretContext(tenant, s.subscription_id)))],
    );
    receiver.secrets = [secret];
    for (let i = 0; i < EVENTS; i++) await db.pool.query(`insert into psa.clients (tenant, client_name) values ($1, $2)`, [tenant, `Client ${i}`]);

    const first = worker();
    await waitFor(async () => (receiver.requests.length >= 50 ? true : undefined), 30_000, 'the first deliveries');
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const atKill = receiver.requests.length;
    expect(atKill).toBeLessThan(SUBSCRIPTIONS * EVENTS); // it died with work left

    worker();
    await waitFor(async () => {
      const { rows } = await db.pool.query(`select count(*) filter (where status = 'succeeded')::int as done from intake.outbound_deliveries where tenant = $1`, [tenant]);
      return rows[0].done === SUBSCRIPTIONS * EVENTS ? true : undefined;
    }, 60_000, 'every delivery to succeed');

    const { rows: [counts] } = await db.pool.query(
      `select count(*)::int as deliveries, count(distinct (event_id, subscription_id))::int as pairs,
              (select count(*)::int from intake.outbound_events where tenant = $1 and delivery_count = $2) as fanned
         from intake.outbound_deliveries where tenant = $1`, [tenant, SUBSCRIPTIONS]);
    expect(counts).toEqual({ deliveries: SUBSCRIPTIONS * EVENTS, pairs: SUBSCRIPTIONS * EVENTS, fanned: EVENTS });
    const pairs = new Set(receiver.requests.map((r) => `${r.path} ${r.headers['webhook-id']}`));
    expect(pairs.size).toBe(SUBSCRIPTIONS * EVENTS);
    // repeats: only attempts in flight when the worker died (at most its concurrency × a job's
    // 20 deliveries) whose record had not committed, each with a webhook-id the receiver had seen
    const repeats = receiver.requests.length - pairs.size;
    expect(repeats).toBeGreaterThanOrEqual(0);
    expect(repeats).toBeLessThanOrEqual(8 * 20);
    expect(receiver.requests.every((r) => r.verifiedBy.length === 1)).toBe(true);
  }, 120_000);
});
