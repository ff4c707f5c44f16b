// Body retention (issue 15): bodies and headers kept apart, one partition per UTC day, dropped
// whole past INTAKE_BODY_RETENTION_DAYS; the delivery row keeps status, key, dedupe, size,
// SHA-256 and head. Real Postgres; the cut is made "now" by running retention with a retention
// short enough to take today's partition (p_days = -1), as the cron task does with 30.
import { createHash, createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBodyPartitions, pruneBodies } from '../worker/tasks/body_retention.ts';
import { asTenant, createTestDatabase, type TestDatabase } from './support/db.ts';
import { failure, graphqlClient, ok, userWithKey } from './support/graphql.ts';
import { makeTenant, makeWebhook, settledDelivery, startTestServer, type TestServer } from './support/server.ts';

const TENANT = 'keep';
let db: TestDatabase;
let server: TestServer;
let hook: { id: string; secret: string; slug: string };

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  await makeTenant(db.pool, TENANT);
  const made = await makeWebhook(db.pool, TENANT, {
    name: 'alerts', slug: 'alerts',
    auth: { auth_type: 'hmac_sha256' },
    idempotency: { type: 'header', value: 'x-event-id' },
    idempotency_window_seconds: 7 * 86_400,
    handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } },
  });
  hook = { id: made.id, secret: made.secret!, slug: 'alerts' };
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

async function send(text: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/api/inbound/${TENANT}/${hook.slug}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', hook.secret).update(text).digest('hex'), ...headers },
    body: text,
  });
  return { status: res.status, body: await res.json() as { delivery_id: string; duplicate?: boolean } };
}

async function withBody(id: string) {
  const { rows } = await db.pool.query(
    `select b.*, encode(b.body_sha256, 'hex') as sha, intake.delivery_body_note(b) as note
       from intake.inbound_webhook_deliveries d cross join lateral intake.delivery_with_body(d) b where d.delivery_id = $1`, [id]);
  return rows[0];
}

/** Drops every day partition up to today's (and the default's old rows), then makes the days again. */
async function cutToday() {
  const result = await pruneBodies(db.pool, -1);
  await makeBodyPartitions(db.pool);
  return result;
}

describe('bodies apart, cut by day', () => {
  it('keeps the body readable until the cut, then its head, size and SHA-256; dedupe holds across the cut; replay fails with the reason', async () => {
    const text = JSON.stringify({ title: 'Disk almost full on SRV-01', padding: 'x'.repeat(400) });
    const first = await send(text, { 'x-event-id': 'evt-1' });
    expect(first.status).toBe(200);
    await settledDelivery(db.pool, first.body.delivery_id);

    const before = await withBody(first.body.delivery_id);
    expect(before.request_body).toEqual(JSON.parse(text));
    expect(before.request_headers).toMatchObject({ 'x-event-id': 'evt-1' });
    expect(before.body_cut_at).toBeNull();
    expect(before.body_size).toBe(Buffer.byteLength(text));
    expect(before.sha).toBe(createHash('sha256').update(text).digest('hex'));
    expect(before.body_head).toBe(text.slice(0, 256));
    // the row's own (legacy) columns hold nothing: the body is in the day's partition
    const { rows: [own] } = await db.pool.query(
      `select request_body, request_body_text, request_headers, (select b.tableoid::regclass::text from intake.inbound_webhook_delivery_bodies b
          where b.tenant = d.tenant and b.delivery_id = d.delivery_id) as partition
         from intake.inbound_webhook_deliveries d where delivery_id = $1`, [first.body.delivery_id]);
    expect(own).toMatchObject({ request_body: null, request_body_text: null, request_headers: {} });
    expect(own.partition).toMatch(/^intake\.inbound_webhook_delivery_bodies_p\d{8}$/);

    const cut = await cutToday();
    expect(cut.partitions).toContain(own.partition.replace('intake.', ''));

    const after = await withBody(first.body.delivery_id);
    expect(after).toMatchObject({ dispatch_status: 'dispatched', idempotency_key: 'evt-1', request_body: null, request_headers: {} });
    expect(after.body_cut_at).not.toBeNull();
    const today = new Date().toISOString().slice(0, 10);
    expect(after.note).toBe(`body cut on ${today}: ${Buffer.byteLength(text)} bytes, sha256 ${before.sha}, head: ${text.slice(0, 256)}`);
    expect(after.request_body_text).toBe(after.note);

    // the same key again, after the body is gone: still the first delivery's duplicate
    const again = await send(JSON.stringify({ title: 'again' }), { 'x-event-id': 'evt-1' });
    expect(again).toMatchObject({ status: 200, body: { delivery_id: first.body.delivery_id, duplicate: true } });

    // a replay has nothing to send: a clear error, no new row
    const { rows: [{ n: beforeReplay }] } = await db.pool.query('select count(*)::int as n from intake.inbound_webhook_deliveries');
    await expect(db.pool.query('select intake.replay_delivery($1)', [first.body.delivery_id]))
      .rejects.toMatchObject({ code: '22023', message: expect.stringMatching(/cannot be replayed: its body was cut by retention on \d{4}-\d{2}-\d{2}/) });
    const { rows: [{ n: afterReplay }] } = await db.pool.query('select count(*)::int as n from intake.inbound_webhook_deliveries');
    expect(afterReplay).toBe(beforeReplay);
  });

  it('records a receive time outside the made partitions in the default one, and moves it when its day is made', async () => {
    const { rows: [t] } = await db.pool.query('select tenant from psa.tenants where slug = $1', [TENANT]);
    const receive = async (receivedAt: string, apart = true) => {
      const body = JSON.stringify({ title: `at ${receivedAt}` });
      const { rows } = await db.pool.query('select * from intake.receive_deliveries($1::jsonb)', [JSON.stringify([{
        tenant: t.tenant, inbound_webhook_id: hook.id, request_method: 'POST', request_path: '/x', request_headers: { a: 'b' },
        request_body: JSON.parse(body), request_body_text: null, body_format: 'json', content_type: 'application/json',
        source_ip: null, user_agent: null, idempotency_key: null, received_at: receivedAt, failure: null, failure_status: null,
        ...(apart ? { body_size: body.length, body_sha256: createHash('sha256').update(body).digest('hex'), body_head: body } : {}),
      }])]);
      expect(rows[0]).toMatchObject({ response_status: 200, duplicate: false });
      return rows[0].delivery_id as string;
    };
    const partitionOf = async (id: string) => (await db.pool.query(
      'select b.tableoid::regclass::text as p from intake.inbound_webhook_delivery_bodies b where b.delivery_id = $1', [id])).rows[0]?.p;

    const far = await receive(new Date(Date.now() + 400 * 86_400_000).toISOString());
    const soon = await receive(new Date(Date.now() + 10 * 86_400_000).toISOString());
    expect(await partitionOf(far)).toBe('intake.inbound_webhook_delivery_bodies_default');
    expect(await partitionOf(soon)).toBe('intake.inbound_webhook_delivery_bodies_default');
    const row = await withBody(soon);
    expect(row.request_body).toMatchObject({ title: expect.stringMatching(/^at /) });

    // an item of a receiver of the release before (no body_size), whose workers read the row's
    // own columns: recorded there, as that release did, and read alike
    const old = await receive(new Date().toISOString(), false);
    expect(await partitionOf(old)).toBeUndefined();
    const { rows: [own] } = await db.pool.query('select request_body, request_headers, body_size from intake.inbound_webhook_deliveries where delivery_id = $1', [old]);
    expect(own).toMatchObject({ request_body: { title: expect.stringMatching(/^at /) }, request_headers: { a: 'b' }, body_size: null });
    expect((await withBody(old)).request_body).toEqual(own.request_body);

    expect(await makeBodyPartitions(db.pool, 11)).toBeGreaterThan(0);
    expect(await partitionOf(soon)).toMatch(/_p\d{8}$/);
    expect((await withBody(soon)).request_body).toEqual(row.request_body);
    expect(await partitionOf(far)).toBe('intake.inbound_webhook_delivery_bodies_default');
    expect(await makeBodyPartitions(db.pool, 11)).toBe(0); // idempotent
  });
});

describe('every reader after the cut', () => {
  it('GraphQL, REST, the dry run and use-as-sample show what is left, and a pending delivery fails with the reason', async () => {
    const text = JSON.stringify({ title: 'Readers' });
    const sent = await send(text, { 'x-event-id': 'evt-readers' });
    expect(sent.status).toBe(200);
    await settledDelivery(db.pool, sent.body.delivery_id);
    const { key } = await userWithKey(db.pool, TENANT, 'admin');
    const gql = graphqlClient(server.url, key);
    const QUERY = `query ($id: UUID!) { inboundWebhookDelivery(deliveryId: $id) {
      requestHeaders requestBody requestBodyText bodySize bodySha256 bodyHead bodyCutAt idempotencyKey } }`;
    const before = (await ok(gql, QUERY, { id: sent.body.delivery_id })).inboundWebhookDelivery;
    expect(before).toMatchObject({ requestBody: { title: 'Readers' }, requestBodyText: null, bodyCutAt: null, bodySize: text.length,
      bodySha256: createHash('sha256').update(text).digest('hex'), bodyHead: text });
    expect(before.requestHeaders).toMatchObject({ 'x-event-id': 'evt-readers' });

    await cutToday();

    const after = (await ok(gql, QUERY, { id: sent.body.delivery_id })).inboundWebhookDelivery;
    expect(after).toMatchObject({ requestBody: null, requestHeaders: {}, bodySize: text.length, bodyHead: text, idempotencyKey: 'evt-readers' });
    expect(after.bodyCutAt).not.toBeNull();
    expect(after.requestBodyText).toMatch(new RegExp(`^body cut on \\d{4}-\\d{2}-\\d{2}: ${text.length} bytes, sha256 ${before.bodySha256}, head: `));

    const rest = await fetch(`${server.url}/api/v1/inbound-webhooks/${hook.id}/deliveries/${sent.body.delivery_id}`, { headers: { authorization: `Bearer ${key}` } });
    expect(rest.status).toBe(200);
    expect(await rest.json()).toMatchObject({ request_body: null, request_headers: {}, request_body_text: after.requestBodyText });

    const replayed = await failure(gql, `mutation ($id: UUID!) { replayInboundWebhookDelivery(input: {deliveryId: $id}) { inboundWebhookDelivery { deliveryId } } }`,
      { id: sent.body.delivery_id });
    expect(replayed.message).toMatch(/cannot be replayed: its body was cut by retention/);
    const sample = await failure(gql, `mutation ($id: UUID!) { useDeliveryAsSample(input: {deliveryId: $id}) { inboundWebhook { id } } }`,
      { id: sent.body.delivery_id });
    expect(sample.message).toMatch(/no body to use as a sample: it was cut by retention/);
    const dry = await failure(gql, `query ($input: PreviewMappingInput!) { previewMapping(input: $input) { ok } }`,
      { input: { inboundWebhookId: hook.id, deliveryId: sent.body.delivery_id, handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } } } });
    expect(dry.message).toMatch(/cannot be tried: its body cut on/);

    // a delivery still pending when its body went (a worker stopped past the retention): failed, with the reason
    const { rows: [pending] } = await db.pool.query(
      `insert into intake.inbound_webhook_deliveries (tenant, inbound_webhook_id, received_at, request_method, request_path, body_size, body_sha256, body_head)
       select tenant, inbound_webhook_id, now() - interval '2 days', 'POST', '/gone', 7, sha256('{"a":1}'), '{"a":1}'
         from intake.inbound_webhooks where inbound_webhook_id = $1
       returning tenant, delivery_id`, [hook.id]);
    await db.pool.query('select intake_private.enqueue_dispatch($1, $2, $3)', [pending.tenant, pending.delivery_id, hook.id]);
    const settled = await settledDelivery(db.pool, pending.delivery_id);
    expect(settled.dispatch_status).toBe('failed');
    expect(settled.error_message).toMatch(/^cannot be dispatched: its body cut on \d{4}-\d{2}-\d{2}: 7 bytes, sha256 [0-9a-f]{64}, head: \{"a":1\}/);
  });
});

describe('the prune_bodies run', () => {
  it('cuts legacy rows in bounded batches, is idempotent, and keeps what outlives the body', async () => {
    const { rows: [t] } = await db.pool.query('select tenant from psa.tenants where slug = $1', [TENANT]);
    // rows as the release before 000015 recorded them: the body in the row's own columns
    await db.pool.query(
      `insert into intake.inbound_webhook_deliveries (tenant, inbound_webhook_id, received_at, request_method, request_path,
         request_headers, request_body, idempotency_key, dispatch_status)
       select $1, $2, now() - interval '40 days' + n * interval '1 second', 'POST', '/legacy', '{"x-n": "1"}',
              jsonb_build_object('title', 'legacy ' || n), 'legacy-' || n, 'dispatched'
         from generate_series(1, 25) n`, [t.tenant, hook.id]);
    // and one recent legacy row, inside the retention
    await db.pool.query(
      `insert into intake.inbound_webhook_deliveries (tenant, inbound_webhook_id, request_method, request_path, request_body, dispatch_status)
       values ($1, $2, 'POST', '/legacy', '{"title": "recent"}', 'dispatched')`, [t.tenant, hook.id]);

    const first = await pruneBodies(db.pool, 30, 10, 3);
    expect(first).toMatchObject({ legacyRows: 20, more: true, batches: 3 });
    const second = await pruneBodies(db.pool, 30, 10, 3);
    expect(second).toMatchObject({ legacyRows: 5, more: false });
    const third = await pruneBodies(db.pool, 30, 10, 3);
    expect(third).toMatchObject({ legacyRows: 0, defaultRows: 0, partitions: [], more: false });

    const { rows } = await db.pool.query(
      `select b.request_body, b.request_body_text, b.idempotency_key, b.body_size, b.body_head, encode(b.body_sha256, 'hex') as sha, b.body_cut_at
         from intake.inbound_webhook_deliveries d cross join lateral intake.delivery_with_body(d) b
        where d.request_path = '/legacy' order by d.received_at`);
    expect(rows).toHaveLength(26);
    const text = JSON.stringify({ title: 'legacy 1' }).replace(':', ': ');
    expect(rows[0]).toMatchObject({ request_body: null, idempotency_key: 'legacy-1', body_size: Buffer.byteLength(text), body_head: text,
      sha: createHash('sha256').update(text).digest('hex') });
    expect(rows[0].request_body_text).toMatch(/^body cut on \d{4}-\d{2}-\d{2}: \d+ bytes, sha256 [0-9a-f]{64}, head: \{"title": "legacy 1"\}$/);
    expect(rows.at(-1)).toMatchObject({ request_body: { title: 'recent' }, body_cut_at: null }); // inside the retention: kept
    // the dedupe index still holds the cut rows' keys
    const { rows: [{ n }] } = await db.pool.query(
      `select count(*)::int as n from intake.inbound_webhook_deliveries where idempotency_key like 'legacy-%' and body_cut_at is not null`);
    expect(n).toBe(25);
  });

  it('drops nothing inside the retention, and the default partition\'s old rows go by batch', async () => {
    const { rows: [t] } = await db.pool.query('select tenant from psa.tenants where slug = $1', [TENANT]);
    await db.pool.query('select * from intake.receive_deliveries($1::jsonb)', [JSON.stringify([{
      tenant: t.tenant, inbound_webhook_id: hook.id, request_method: 'POST', request_path: '/old', request_headers: {},
      request_body: { title: 'from a clock far behind' }, request_body_text: null, body_format: 'json', content_type: 'application/json',
      source_ip: null, user_agent: null, idempotency_key: null, received_at: new Date(Date.now() - 90 * 86_400_000).toISOString(),
      failure: null, failure_status: null, body_size: 36, body_sha256: '00'.repeat(32), body_head: '{"title": "from a clock far behind"}',
    }])]);
    const { rows: [{ partitions: beforeCount }] } = await db.pool.query(
      `select count(*)::int as partitions from pg_inherits where inhparent = 'intake.inbound_webhook_delivery_bodies'::regclass`);
    const run = await pruneBodies(db.pool, 30);
    expect(run).toMatchObject({ partitions: [], defaultRows: 1 });
    const { rows: [{ partitions: afterCount }] } = await db.pool.query(
      `select count(*)::int as partitions from pg_inherits where inhparent = 'intake.inbound_webhook_delivery_bodies'::regclass`);
    expect(afterCount).toBe(beforeCount);
    const { rows: [old] } = await db.pool.query(
      `select b.request_body, b.body_cut_at from intake.inbound_webhook_deliveries d cross join lateral intake.delivery_with_body(d) b where d.request_path = '/old'`);
    expect(old.request_body).toBeNull();
    expect(old.body_cut_at).not.toBeNull();
  });
});

describe('which partitions are due', () => {
  it('lists none inside the retention; past it, the days oldest first with their row estimates (what prune_bodies reports)', async () => {
    expect((await db.pool.query('select * from intake_private.body_partitions_due(30)')).rows).toEqual([]);
    const { rows: [t] } = await db.pool.query('select tenant from psa.tenants where slug = $1', [TENANT]);
    await db.pool.query('select * from intake.receive_deliveries($1::jsonb)', [JSON.stringify([{
      tenant: t.tenant, inbound_webhook_id: hook.id, request_method: 'POST', request_path: '/due', request_headers: {},
      request_body: { title: 'today' }, request_body_text: null, body_format: 'json', content_type: 'application/json',
      source_ip: null, user_agent: null, idempotency_key: null, received_at: new Date().toISOString(),
      failure: null, failure_status: null, body_size: 17, body_sha256: '00'.repeat(32), body_head: '{"title": "today"}',
    }])]);
    await db.pool.query('analyze intake.inbound_webhook_delivery_bodies');
    const { rows } = await db.pool.query('select partition_name, to_char(day, \'YYYYMMDD\') as day, rows_estimate from intake_private.body_partitions_due(-1)');
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    expect(rows.map((r) => r.day)).toEqual([...rows.map((r) => r.day)].sort());
    expect(rows.at(-1)).toEqual({ partition_name: `inbound_webhook_delivery_bodies_p${today}`, day: today, rows_estimate: expect.any(Number) });
    expect(rows.at(-1)!.rows_estimate).toBeGreaterThanOrEqual(1);
  });
});

describe('row-level security', () => {
  it('a tenant sees only its own bodies', async () => {
    await makeTenant(db.pool, 'other');
    const other = await makeWebhook(db.pool, 'other', {
      name: 'o', slug: 'o', auth: { auth_type: 'hmac_sha256' },
      handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } },
    });
    const text = JSON.stringify({ title: 'secret of other' });
    const res = await fetch(`${server.url}/api/inbound/other/o`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', other.secret!).update(text).digest('hex') },
      body: text,
    });
    expect(res.status).toBe(200);
    const { rows: tenants } = await db.pool.query(`select slug, tenant from psa.tenants where slug in ('keep', 'other')`);
    const id = (slug: string) => tenants.find((r) => r.slug === slug)!.tenant as string;

    const seen = (tenant: string | null) => asTenant(db.pool, tenant, async (c) =>
      (await c.query(`select tenant, request_body from intake.inbound_webhook_delivery_bodies`)).rows);
    const mine = await seen(id('keep'));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((r) => r.tenant === id('keep'))).toBe(true);
    expect(JSON.stringify(mine)).not.toContain('secret of other');
    expect((await seen(id('other'))).map((r) => r.request_body)).toEqual([{ title: 'secret of other' }]);
    expect(await seen(null)).toEqual([]);
    // nor read a day's partition past its parent's policy: no grant on partitions at all
    await expect(asTenant(db.pool, id('keep'), (c) => c.query('select * from intake.inbound_webhook_delivery_bodies_default')))
      .rejects.toMatchObject({ code: '42501' });
    // and it cannot write another tenant's body
    await expect(asTenant(db.pool, id('keep'), (c) => c.query(
      `insert into intake.inbound_webhook_delivery_bodies (tenant, delivery_id, received_at) values ($1, gen_random_uuid(), now())`, [id('other')])))
      .rejects.toThrow(/row-level security/);
  });
});
