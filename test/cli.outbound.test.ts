// The outbound CLI as a user runs it (a child process): `intake subscription create` prints the
// id and the whsec_ secret once, `subscription list` never shows it, `events list` shows what a
// change emitted; show, update, rotate (both secrets verify a test event sent to a real receiver
// on loopback), test, retry, recover with its count and progress, delete; an id of another
// tenant is not found; bad input is one line on stderr and a non-zero exit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverOutbound, type OutboundDeliverOptions } from '../worker/outbound/deliver.ts';
import { runIntake } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { deliverJob, deliverOptions, makeSubscription, startReceiver, type TestReceiver } from './support/outbound.ts';
import { makeTenant } from './support/server.ts';

let db: TestDatabase;
let tenant: string;
let receiver: TestReceiver;
let options: OutboundDeliverOptions;
const ENV = { INTAKE_OUTBOUND_ALLOW_CIDRS: '127.0.0.0/8', INTAKE_OUTBOUND_ALLOW_HTTP: 'true' };

beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await makeTenant(db.pool, 'acme');
  await makeTenant(db.pool, 'other');
  receiver = await startReceiver();
  options = deliverOptions();
});
afterAll(async () => {
  await options?.agent.close();
  await receiver?.close();
  await db?.drop();
});

/** runs the CLI; answers its JSON, failing with its stderr when it did not exit 0 */
async function intake(...args: string[]): Promise<any> {
  const run = await runIntake(db.url, args, ENV);
  if (run.code !== 0) throw new Error(`intake ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

it('creates a subscription: {"id","secret"}, the secret this once', async () => {
  const run = await runIntake(db.url, ['subscription', 'create', '--tenant', 'acme', '--url', 'http://127.0.0.1:9/hook',
    '--events', 'ticket.*,invoice.paid', '--header', 'X-Team=ops'], ENV);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const created = JSON.parse(run.stdout);
  expect(Object.keys(created).sort()).toEqual(['id', 'secret']);
  expect(created.secret).toMatch(/^whsec_/);
  const list = await runIntake(db.url, ['subscription', 'list', '--tenant', 'acme'], ENV);
  const listed = JSON.parse(list.stdout);
  expect(listed).toEqual([expect.objectContaining({ id: created.id, url: 'http://127.0.0.1:9/hook', event_types: ['ticket.*', 'invoice.paid'], headers: { 'X-Team': 'ops' }, is_active: true })]);
  expect(list.stdout).not.toContain(created.secret.slice(6));
});

it('refuses what the API refuses, in one line', async () => {
  const metadata = await runIntake(db.url, ['subscription', 'create', '--tenant', 'acme', '--url', 'https://169.254.169.254/', '--events', '*'], ENV);
  expect(metadata.code).not.toBe(0);
  expect(metadata.stderr.trim()).toMatch(/url: refused: 169\.254\.169\.254 is a link-local address/);
  const http = await runIntake(db.url, ['subscription', 'create', '--tenant', 'acme', '--url', 'http://example.com/', '--events', '*']);
  expect(http.stderr.trim()).toMatch(/url: must be https \(an operator may allow http with INTAKE_OUTBOUND_ALLOW_HTTP=true\)/);
  const unknown = await runIntake(db.url, ['subscription', 'create', '--tenant', 'acme', '--url', 'http://127.0.0.1:9/', '--events', 'tickets.*'], ENV);
  expect(unknown.stderr.trim()).toMatch(/eventTypes: unknown entity "tickets"/);
  const missing = await runIntake(db.url, ['subscription', 'create', '--tenant', 'acme', '--url', 'http://127.0.0.1:9/'], ENV);
  expect(missing.code).toBe(2);
  expect(missing.stderr.trim()).toMatch(/--events is required/);
});

it('lists events', async () => {
  await db.pool.query(`insert into psa.clients (tenant, client_name) values ($1, 'From the CLI test')`, [tenant]);
  const run = await runIntake(db.url, ['events', 'list', '--tenant', 'acme', '--type', 'client.created']);
  expect(run.code).toBe(0);
  const events = JSON.parse(run.stdout);
  expect(events).toEqual([expect.objectContaining({ event_type: 'client.created', entity_type: 'client', entity_version: 1, payload: expect.objectContaining({ type: 'client.created' }) })]);
  const deliveries = await runIntake(db.url, ['events', 'deliveries', '--tenant', 'acme', '--status', 'failed']);
  expect(JSON.parse(deliveries.stdout)).toEqual([]);
});

describe('a subscription\'s life from the shell', () => {
  let id: string;
  let firstSecret: string;

  beforeAll(async () => {
    const sub = await makeSubscription(db.pool, 'acme', { url: `${receiver.url}/cli`, event_types: ['ticket.*'] });
    id = sub.id;
    firstSecret = sub.secret;
  });

  it('shows the settings, the deliveries by status and how many secrets sign; never a secret', async () => {
    const run = await runIntake(db.url, ['subscription', 'show', id, '--tenant', 'acme'], ENV);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain(firstSecret.slice(6));
    expect(JSON.parse(run.stdout)).toEqual(expect.objectContaining({
      id, url: `${receiver.url}/cli`, event_types: ['ticket.*'], is_active: true, live_secrets: 1, previous_secrets_expire_at: null,
      deliveries: { pending: 0, succeeded: 0, failed: 0 },
    }));
  });

  it('an id of another tenant is not found, and a bad id or a missing one says so', async () => {
    const other = await runIntake(db.url, ['subscription', 'show', id, '--tenant', 'other'], ENV);
    expect(other.code).toBe(2);
    expect(other.stderr.trim()).toBe(`intake: no outbound subscription ${id} in this tenant`);
    const deleted = await runIntake(db.url, ['subscription', 'delete', id, '--tenant', 'other'], ENV);
    expect(deleted.code).toBe(2);
    expect((await db.pool.query('select count(*)::int as n from intake.outbound_subscriptions where subscription_id = $1', [id])).rows[0].n).toBe(1);
    const bad = await runIntake(db.url, ['subscription', 'show', 'nope', '--tenant', 'acme'], ENV);
    expect(bad.stderr.trim()).toBe('intake: subscription show: not a subscription id (a uuid): "nope"');
    const missing = await runIntake(db.url, ['events', 'retry', '--tenant', 'acme'], ENV);
    expect(missing.stderr.trim()).toBe('intake: events retry takes a delivery id first');
  });

  it('updates what it is told and checks the whole as the API does', async () => {
    const updated = await intake('subscription', 'update', id, '--tenant', 'acme', '--events', 'ticket.*,invoice.paid', '--rate-limit', '60', '--header', 'X-Team=ops');
    expect(updated).toEqual(expect.objectContaining({ id, url: `${receiver.url}/cli`, event_types: ['ticket.*', 'invoice.paid'], rate_limit_per_minute: 60, headers: { 'X-Team': 'ops' }, is_active: true }));
    const off = await intake('subscription', 'update', id, '--tenant', 'acme', '--inactive', '--rate-limit', 'none', '--no-headers');
    expect(off).toEqual(expect.objectContaining({ is_active: false, rate_limit_per_minute: null, headers: {}, event_types: ['ticket.*', 'invoice.paid'] }));
    expect((await intake('subscription', 'update', id, '--tenant', 'acme', '--active')).is_active).toBe(true);

    const metadata = await runIntake(db.url, ['subscription', 'update', id, '--tenant', 'acme', '--url', 'https://169.254.169.254/'], ENV);
    expect(metadata.code).toBe(2);
    expect(metadata.stderr.trim()).toMatch(/url: refused: 169\.254\.169\.254 is a link-local address/);
    const reserved = await runIntake(db.url, ['subscription', 'update', id, '--tenant', 'acme', '--header', 'webhook-id=x'], ENV);
    expect(reserved.stderr.trim()).toMatch(/headers: webhook-id is reserved/);
    const nothing = await runIntake(db.url, ['subscription', 'update', id, '--tenant', 'acme'], ENV);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/nothing to change/);
    const both = await runIntake(db.url, ['subscription', 'update', id, '--tenant', 'acme', '--active', '--inactive'], ENV);
    expect(both.stderr.trim()).toBe('intake: use either --active or --inactive, not both');
    expect((await db.pool.query('select url from intake.outbound_subscriptions where subscription_id = $1', [id])).rows[0].url).toBe(`${receiver.url}/cli`);
  });

  it('rotates with an overlap: a test event it sends is signed by the new secret and the old one', async () => {
    const tooLong = await runIntake(db.url, ['subscription', 'rotate', id, '--tenant', 'acme', '--overlap-hours', '169'], ENV);
    expect(tooLong.stderr.trim()).toBe('intake: --overlap-hours is at most 168 (7 days), got 169');
    const before = Date.now();
    const rotated = await intake('subscription', 'rotate', id, '--tenant', 'acme', '--overlap-hours', '2');
    expect(rotated.id).toBe(id);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(firstSecret);
    const expires = Date.parse(rotated.previous_secrets_expire_at);
    expect(expires).toBeGreaterThanOrEqual(before + 2 * 3600_000 - 60_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 2 * 3600_000 + 60_000);
    const shownAfter = await intake('subscription', 'show', id, '--tenant', 'acme');
    expect(shownAfter.live_secrets).toBe(2);
    expect(Date.parse(shownAfter.previous_secrets_expire_at)).toBe(expires);

    const test = await intake('subscription', 'test', id, '--tenant', 'acme', '--type', 'invoice.paid');
    expect(test).toEqual(expect.objectContaining({ subscription_id: id, event_type: 'invoice.paid', status: 'pending', attempt_count: 0 }));
    expect(await deliverJob(db.pool, test.id)).toBeDefined();
    receiver.secrets = [firstSecret, rotated.secret];
    receiver.requests.length = 0;
    await deliverOutbound(db.pool, tenant, test.id, 'test', options);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.verifiedBy).toEqual([0, 1]);
    expect(JSON.parse(receiver.requests[0]!.body)).toEqual(expect.objectContaining({ type: 'invoice.paid', data: expect.objectContaining({ test: true }) }));

    const shown = await intake('events', 'delivery', test.id, '--tenant', 'acme');
    expect(shown).toEqual(expect.objectContaining({ id: test.id, status: 'succeeded', attempt_count: 1, payload: expect.objectContaining({ type: 'invoice.paid' }) }));
    expect(shown.attempts).toEqual([expect.objectContaining({ attempt_number: 1, trigger: 'test', response_status: 200, succeeded: true, request_url: `${receiver.url}/cli` })]);
    expect((await runIntake(db.url, ['events', 'delivery', test.id, '--tenant', 'other'], ENV)).stderr.trim()).toBe(`intake: no outbound delivery ${test.id} in this tenant`);
  });

  it('retries one delivery, counts and recovers the failed ones since a time, and shows the recovery\'s progress', async () => {
    const failed: string[] = [];
    for (let i = 0; i < 3; i++) failed.push((await intake('subscription', 'test', id, '--tenant', 'acme')).id);
    await db.pool.query(`update intake.outbound_deliveries set status = 'failed', next_attempt_at = null, created_at = now() - interval '1 hour' where delivery_id = any($1)`, [failed]);
    await db.pool.query(`select graphile_worker.complete_jobs(array(select id from graphile_worker.jobs where key = any($1)))`, [failed.map((d) => `outbound_delivery:${d}`)]);

    const listed = await intake('events', 'deliveries', '--tenant', 'acme', '--subscription', id, '--status', 'failed', '--type', 'ticket.created');
    expect(listed.map((d: { id: string }) => d.id).sort()).toEqual([...failed].sort());
    const since = new Date(Date.now() - 2 * 3600_000).toISOString();
    expect(await intake('events', 'deliveries', '--tenant', 'acme', '--subscription', id, '--to', since)).toEqual([]);
    expect(await intake('events', 'deliveries', '--tenant', 'other', '--subscription', id)).toEqual([]);
    const badTime = await runIntake(db.url, ['events', 'deliveries', '--tenant', 'acme', '--from', 'yesterday'], ENV);
    expect(badTime.stderr.trim()).toMatch(/^intake: --from must be an ISO 8601 date-time/);

    const retried = await intake('events', 'retry', failed[0]!, '--tenant', 'acme');
    expect(retried).toEqual(expect.objectContaining({ id: failed[0], status: 'pending' }));
    expect(await deliverJob(db.pool, failed[0]!)).toBeDefined();
    expect((await runIntake(db.url, ['events', 'retry', failed[1]!, '--tenant', 'other'], ENV)).stderr.trim()).toBe(`intake: outbound delivery ${failed[1]} not found`);

    expect(await intake('subscription', 'recover', id, '--tenant', 'acme', '--since', since, '--count')).toEqual({ subscription_id: id, since, count: 2 });
    const recovery = await intake('subscription', 'recover', id, '--tenant', 'acme', '--since', since);
    expect(recovery).toEqual(expect.objectContaining({ subscription_id: id, total: 2, processed: 0, status: 'running' }));
    const { rows: jobs } = await db.pool.query(`select task_identifier from graphile_worker.jobs where key = $1`, [`outbound_recovery:${recovery.id}`]);
    expect(jobs).toEqual([{ task_identifier: 'outbound_recovery_chunk' }]);
    expect(await intake('subscription', 'recovery', recovery.id, '--tenant', 'acme')).toEqual(expect.objectContaining({ id: recovery.id, total: 2, status: 'running' }));
    const elsewhere = await runIntake(db.url, ['subscription', 'recovery', recovery.id, '--tenant', 'other'], ENV);
    expect(elsewhere.stderr.trim()).toBe(`intake: no outbound recovery ${recovery.id} in this tenant`);
    const noSince = await runIntake(db.url, ['subscription', 'recover', id, '--tenant', 'acme'], ENV);
    expect(noSince.stderr.trim()).toBe('intake: --since is required');
  });

  it('deletes it with its deliveries', async () => {
    expect(await intake('subscription', 'delete', id, '--tenant', 'acme')).toEqual({ id, url: `${receiver.url}/cli`, deleted: true });
    expect((await db.pool.query('select count(*)::int as n from intake.outbound_deliveries where subscription_id = $1', [id])).rows[0].n).toBe(0);
    expect((await runIntake(db.url, ['subscription', 'show', id, '--tenant', 'acme'], ENV)).code).toBe(2);
  });
});
