// The REST API over HTTP against a running server: every documented management operation is
// called, and each real answer (status and body) is validated against api/openapi.yaml
// (test/support/rest.ts). Also: another tenant's ids are 404, a viewer's writes are 403, and no
// read ever carries a secret.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../api/openapiDocument.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { userWithKey } from './support/graphql.ts';
import { checkAnswer, checkComponent, exercised, restClient, type RestRequest } from './support/rest.ts';
import { makeTenant, settledDelivery, startTestServer, waitFor, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
let admin: RestRequest;
let viewer: RestRequest;
let other: RestRequest;
/** every secret the API handed out: no read may contain one */
const secrets: string[] = [];
/** every read's text */
const reads: string[] = [];

const BASE = '/api/v1/inbound-webhooks';

function ticketHook(slug: string, extra: Record<string, unknown> = {}) {
  return {
    name: `Alerts ${slug}`,
    slug,
    auth: { auth_type: 'hmac_sha256' },
    handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } },
    rate_limit_per_minute: 0,
    ...extra,
  };
}

async function read(request: RestRequest, path: string) {
  const answer = await request('get', path);
  reads.push(answer.text);
  return answer;
}

async function post(tenant: string, slug: string, secret: string, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const path = `/api/inbound/${tenant}/${slug}`;
  const res = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', secret).update(text).digest('hex'), ...headers },
    body: text,
  });
  const answerText = await res.text();
  const answer = { status: res.status, body: answerText ? JSON.parse(answerText) : undefined, text: answerText, headers: res.headers };
  checkAnswer('post', path, answer); // the receiver's answers are documented too
  return { status: answer.status, body: answer.body };
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { env: { PUBLIC_URL: 'https://intake.example.com' } });
  await makeTenant(db.pool, 'acme');
  await makeTenant(db.pool, 'globex');
  admin = restClient(server.url, (await userWithKey(db.pool, 'acme', 'admin')).key);
  viewer = restClient(server.url, (await userWithKey(db.pool, 'acme', 'viewer')).key);
  other = restClient(server.url, (await userWithKey(db.pool, 'globex', 'admin')).key);
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

describe('authentication', () => {
  it('answers 401 in the error shape without a valid key, and accepts Bearer or X-API-Key', async () => {
    for (const key of [null, 'nonsense', `ik_${'0'.repeat(32)}_${'A'.repeat(43)}`]) {
      const answer = await restClient(server.url, key)('get', BASE);
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe('UNAUTHENTICATED');
      expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const { key } = await userWithKey(db.pool, 'acme', 'viewer');
    expect((await restClient(server.url, key, { header: 'x-api-key' })('get', BASE)).status).toBe(200);
    expect((await restClient(server.url, key)('get', BASE)).status).toBe(200);
    expect((await restClient(server.url, 'nonsense', { header: 'x-api-key' })('get', BASE)).status).toBe(401);
  });
});

describe('webhooks', () => {
  let id: string;
  let secret: string;

  it('creates a webhook: 201 with the secret once', async () => {
    const answer = await admin('post', BASE, ticketHook('alerts', { idempotency: { type: 'header', value: 'X-Event-Id' } }));
    expect(answer.status).toBe(201);
    expect(answer.body.secret).toMatch(/.{16,}/);
    expect(answer.body.url).toBe('https://intake.example.com/api/inbound/acme/alerts');
    expect(answer.body.webhook).toMatchObject({ slug: 'alerts', auth: { auth_type: 'hmac_sha256', signature_format: 'hex' } });
    id = answer.body.webhook.id;
    secret = answer.body.secret;
    secrets.push(secret);
  });

  it('reads, lists and updates it', async () => {
    const one = await read(admin, `${BASE}/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id, slug: 'alerts', handler: { action: 'createTicket' } });
    const list = await read(viewer, BASE);
    expect(list.status).toBe(200);
    expect(list.body.data.map((w: any) => w.id)).toContain(id);

    const updated = await admin('put', `${BASE}/${id}`, { name: 'Renamed', handler: { field_mapping: { title: '"Alert: " & title' } } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'Renamed', handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: '"Alert: " & title' } } });
  });

  it('rotates the secret: the new one is shown once and verifies', async () => {
    const rotated = await admin('post', `${BASE}/${id}/rotate-secret`, { grace_period_seconds: 0 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(secret);
    secrets.push(rotated.body.secret);
    secret = rotated.body.secret;
    expect(Date.parse(rotated.body.previous_secrets_expire_at)).toBeLessThanOrEqual(Date.now() + 1000);
    const bad = await admin('post', `${BASE}/${id}/rotate-secret`, { grace_period_seconds: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.field).toBe('grace_period_seconds');
  });

  it('captures a sample and clears it', async () => {
    const started = await admin('post', `${BASE}/${id}/capture-sample`, { minutes: 10 });
    expect(started.status).toBe(200);
    expect(Date.parse(started.body.sample_capture_until)).toBeGreaterThan(Date.now() + 9 * 60_000);
    const sent = await post('acme', 'alerts', secret, { title: 'disk full' }, { 'x-event-id': 'e-1' });
    expect(sent.status).toBe(200);
    const sampled = await waitFor(async () => {
      const answer = await read(admin, `${BASE}/${id}`);
      return answer.body.sample_payload ? answer : undefined;
    });
    expect(sampled.body.sample_payload).toEqual({ title: 'disk full' });
    const cleared = await admin('delete', `${BASE}/${id}/capture-sample`);
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ sample_payload: null, sample_capture_until: null });
  });

  it('sends a test delivery, lists, reads and replays deliveries', async () => {
    const test = await admin('post', `${BASE}/${id}/test`, { body: { title: 'test alert' }, headers: { 'x-source': 'ui' } });
    expect(test.status).toBe(202);
    expect(test.body).toMatchObject({ is_test: true, dispatch_status: 'pending', request_body: { title: 'test alert' } });
    await settledDelivery(db.pool, test.body.id);

    // a duplicate (200 with duplicate: true, per the document)
    const first = await post('acme', 'alerts', secret, { title: 'again' }, { 'x-event-id': 'e-2' });
    const repeat = await post('acme', 'alerts', secret, { title: 'again' }, { 'x-event-id': 'e-2' });
    expect(repeat).toEqual({ status: 200, body: { delivery_id: first.body.delivery_id, duplicate: true } });
    await settledDelivery(db.pool, first.body.delivery_id);

    const all = await read(admin, `${BASE}/${id}/deliveries`);
    expect(all.status).toBe(200);
    expect(all.body.data.length).toBe(4);
    expect(all.body.next_cursor).toBeNull();
    const received = all.body.data.map((d: any) => d.received_at);
    expect([...received].sort().reverse()).toEqual(received);

    // cursor pagination walks every row once, newest first
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await read(admin, `${BASE}/${id}/deliveries?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((d: any) => d.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.body.data.map((d: any) => d.id));

    const duplicates = await read(admin, `${BASE}/${id}/deliveries?status=duplicate`);
    expect(duplicates.body.data).toHaveLength(1);
    expect(duplicates.body.data[0].duplicate_of).toBe(first.body.delivery_id);
    const future = await read(admin, `${BASE}/${id}/deliveries?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(future.body.data).toHaveLength(0);
    const past = await read(admin, `${BASE}/${id}/deliveries?to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}&status=dispatched`);
    expect(past.body.data.length).toBe(3);
    const badStatus = await admin('get', `${BASE}/${id}/deliveries?status=lost`);
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.error.details.field).toBe('status');
    expect((await admin('get', `${BASE}/${id}/deliveries?from=yesterday`)).body.error.details.field).toBe('from');
    expect((await admin('get', `${BASE}/${id}/deliveries?cursor=nope`)).body.error.details.field).toBe('cursor');

    const one = await read(viewer, `${BASE}/${id}/deliveries/${first.body.delivery_id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: first.body.delivery_id, dispatch_status: 'dispatched', idempotency_key: 'e-2' });
    expect(one.body.request_headers).not.toHaveProperty('x-signature');

    const replay = await admin('post', `${BASE}/${id}/deliveries/${first.body.delivery_id}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ is_replay: true, replayed_from: first.body.delivery_id });
    const settled = await settledDelivery(db.pool, replay.body.id);
    expect(settled.dispatch_status).toBe('dispatched');
    expect((await viewer('post', `${BASE}/${id}/deliveries/${first.body.delivery_id}/replay`)).status).toBe(403);
  });

  it('dry-runs a draft handler on a body, a delivery or the sample, leaving nothing; 409 while a dispatch holds its rows', async () => {
    const draft = { field_mapping: { title: '"Preview: " & title', priority: 'priority' } };
    const onBody = await admin('post', `${BASE}/${id}/preview-mapping`, { handler: draft, body: { title: 'Disk full', priority: 'High' } });
    expect(onBody.status).toBe(200);
    expect(onBody.body).toMatchObject({ source: 'body', delivery_id: null, outcome: 'create', ok: true, summary: 'creates ticket', envelope: null });
    expect(onBody.body.fields.find((f: any) => f.name === 'title')).toEqual({
      name: 'title', expression: '"Preview: " & title', value: 'Preview: Disk full', value_type: 'string', problem: null, severity: null,
    });
    const delivery = (await admin('get', `${BASE}/${id}/deliveries?limit=1`)).body.data[0];
    const onDelivery = await viewer('post', `${BASE}/${id}/preview-mapping`, { handler: draft, delivery_id: delivery.id });
    expect(onDelivery.body).toMatchObject({ source: 'delivery', delivery_id: delivery.id, input: delivery.request_body });
    const noSample = await admin('post', `${BASE}/${id}/preview-mapping`, { handler: draft });
    expect(noSample.status).toBe(400);
    // "use as sample": the delivery's body becomes the sample the dry run uses by default
    const used = await admin('post', `${BASE}/${id}/deliveries/${delivery.id}/use-as-sample`);
    expect(used.status).toBe(200);
    expect(used.body).toMatchObject({ sample_payload: delivery.request_body, sample_capture_until: null });
    expect((await admin('post', `${BASE}/${id}/preview-mapping`, { handler: draft })).body).toMatchObject({ source: 'sample', input: delivery.request_body });
    const { rows: [unparsed] } = await db.pool.query(
      `insert into intake.inbound_webhook_deliveries (tenant, inbound_webhook_id, request_method, request_path, request_body_text, dispatch_status)
       select tenant, inbound_webhook_id, 'POST', '/x', '{not json', 'failed' from intake.inbound_webhooks where inbound_webhook_id = $1
       returning delivery_id`, [id]);
    const noBody = await admin('post', `${BASE}/${id}/deliveries/${unparsed.delivery_id}/use-as-sample`);
    expect(noBody.status).toBe(400);
    expect(noBody.body.error.message).toMatch(/has no parsed body to use as a sample/);
    await admin('delete', `${BASE}/${id}/capture-sample`);
    expect((await admin('post', `${BASE}/${id}/preview-mapping`, { handler: draft, delivery_id: 'nope' })).body.error.details.field).toBe('delivery_id');
    expect((await admin('post', `${BASE}/${id}/preview-mapping`, { handler: draft, delivery_id: '7f0c1a8e-2f43-4a7b-9d0e-2b1f8c3d4e5f' })).status).toBe(404);
    const { rows: [{ n: tickets }] } = await db.pool.query(`select count(*)::int as n from psa.tickets`);

    // a dispatch of the tenant holding its ticket counter: the dry run waits 2 s, then says so
    const holder = await db.pool.connect();
    try {
      await holder.query(`begin; select * from psa.tenant_counters c join psa.tenants t using (tenant) where t.slug = 'acme' for update of c`);
      const busy = await admin('post', `${BASE}/${id}/preview-mapping`, { handler: draft, body: { title: 'x' } });
      expect(busy.status).toBe(409);
      expect(busy.body.error).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/a dispatch of this tenant holds the rows it needs; try again/) });
    } finally {
      await holder.query('rollback');
      holder.release();
    }
    const { rows: [{ n: after }] } = await db.pool.query(`select count(*)::int as n from psa.tickets`);
    expect(after).toBe(tickets);
  });

  it('lists the versions of its configuration and restores one; replays with the configuration a delivery was dispatched with', async () => {
    const versions = await read(viewer, `${BASE}/${id}/versions`);
    expect(versions.status).toBe(200);
    const [newest, ...older] = versions.body.data;
    expect(newest.changes).toEqual(['handler.field_mapping.title', 'name']);
    expect(older.at(-1)).toMatchObject({ version: 1, changes: [], restored_from: null });
    expect((await read(viewer, `${BASE}/${id}/versions?limit=1`)).body.data).toHaveLength(1);
    expect((await admin('get', `${BASE}/${id}/versions?limit=0`)).body.error.details.field).toBe('limit');

    const delivery = (await admin('get', `${BASE}/${id}/deliveries?status=dispatched&limit=1`)).body.data[0];
    expect(delivery.config_version).toBe(newest.version);
    const restored = await admin('post', `${BASE}/${id}/versions/1/restore`);
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ config_version: newest.version + 1, handler: { field_mapping: { title: 'title' } }, name: 'Alerts alerts' });
    expect((await read(viewer, `${BASE}/${id}/versions?limit=1`)).body.data[0]).toMatchObject({ restored_from: 1 });
    expect((await admin('post', `${BASE}/${id}/versions/0/restore`)).body.error.details.field).toBe('version');
    expect((await admin('post', `${BASE}/${id}/versions/999/restore`)).status).toBe(404);

    const pinned = await admin('post', `${BASE}/${id}/deliveries/${delivery.id}/replay`, { configuration: 'dispatched' });
    expect(pinned.status).toBe(202);
    expect(pinned.body).toMatchObject({ dispatch_config_version: newest.version, replayed_from: delivery.id });
    expect((await settledDelivery(db.pool, pinned.body.id)).config_version).toBe(newest.version);
    const bad = await admin('post', `${BASE}/${id}/deliveries/${delivery.id}/replay`, { configuration: 'yesterday' });
    expect(bad.body.error.details.field).toBe('configuration');
    // put the mapping back as the tests after this one expect it
    expect((await admin('post', `${BASE}/${id}/versions/${newest.version}/restore`)).status).toBe(200);
  });

  it('refuses what a viewer may not do with 403, before anything changes', async () => {
    const attempts: [any, string, unknown?][] = [
      ['post', BASE, ticketHook('viewer-made')],
      ['put', `${BASE}/${id}`, { name: 'x' }],
      ['delete', `${BASE}/${id}`],
      ['post', `${BASE}/${id}/rotate-secret`, {}],
      ['post', `${BASE}/${id}/test`, { body: {} }],
      ['post', `${BASE}/${id}/capture-sample`, {}],
      ['delete', `${BASE}/${id}/capture-sample`],
      ['post', `${BASE}/${id}/versions/1/restore`],
      ['post', `${BASE}/${id}/deliveries/${(await admin('get', `${BASE}/${id}/deliveries?limit=1`)).body.data[0].id}/use-as-sample`],
    ];
    for (const [method, path, body] of attempts) {
      const answer = await viewer(method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body.error.code).toBe('FORBIDDEN');
    }
    expect((await read(admin, `${BASE}/${id}`)).body.name).toBe('Renamed');
  });

  it("answers 404 for another tenant's ids, never 403", async () => {
    const delivery = (await admin('get', `${BASE}/${id}/deliveries?limit=1`)).body.data[0].id;
    const attempts: [any, string, unknown?][] = [
      ['get', `${BASE}/${id}`],
      ['put', `${BASE}/${id}`, { name: 'stolen' }],
      ['delete', `${BASE}/${id}`],
      ['post', `${BASE}/${id}/rotate-secret`, {}],
      ['post', `${BASE}/${id}/test`, { body: {} }],
      ['post', `${BASE}/${id}/capture-sample`, {}],
      ['delete', `${BASE}/${id}/capture-sample`],
      ['get', `${BASE}/${id}/deliveries`],
      ['get', `${BASE}/${id}/deliveries/${delivery}`],
      ['post', `${BASE}/${id}/deliveries/${delivery}/replay`],
      ['post', `${BASE}/${id}/preview-mapping`, { handler: {}, body: {} }],
      ['post', `${BASE}/${id}/preview-mapping`, { handler: {}, delivery_id: delivery }],
      ['get', `${BASE}/${id}/versions`],
      ['post', `${BASE}/${id}/versions/1/restore`],
      ['post', `${BASE}/${id}/deliveries/${delivery}/use-as-sample`],
    ];
    for (const [method, path, body] of attempts) {
      const answer = await other(method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body.error.code).toBe('NOT_FOUND');
    }
    expect((await other('get', BASE)).body.data).toEqual([]);
    expect((await read(admin, `${BASE}/${id}`)).body.name).toBe('Renamed');
  });

  it('answers 400 naming the field, 409 for a taken slug and 422 with the position of a bad expression', async () => {
    const invalid = await admin('post', BASE, ticketHook('Not A Slug'));
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({ code: 'VALIDATION', details: { field: 'slug' } });
    expect(invalid.body.error.message).toMatch(/^slug: /);
    const nested = await admin('post', BASE, ticketHook('nested', { auth: { auth_type: 'ip_allowlist', cidrs: ['nope'] } }));
    expect(nested.status).toBe(400);
    expect(nested.body.error.details.field).toBe('auth.cidrs.0');
    const unknownAction = await admin('post', BASE, ticketHook('unknown', { handler: { handler_type: 'direct_action', action: 'nope', field_mapping: {} } }));
    expect(unknownAction.body.error.details.field).toBe('handler.action');
    const notJson = await admin('post', BASE, '{"name":');
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.details.field).toBe('body');
    expect((await admin('get', `${BASE}/not-a-uuid`)).body.error.details.field).toBe('id');

    const taken = await admin('post', BASE, ticketHook('alerts'));
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('CONFLICT');
    expect((await admin('put', `${BASE}/${id}`, { slug: 'alerts' })).status).toBe(200);

    const badExpression = await admin('post', BASE, ticketHook('bad-expr', {
      handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title & (' } },
    }));
    expect(badExpression.status).toBe(422);
    expect(badExpression.body.error).toMatchObject({ code: 'BAD_EXPRESSION', details: { field: 'handler.field_mapping.title' } });
    expect(typeof badExpression.body.error.details.position).toBe('number');
    const badUpdate = await admin('put', `${BASE}/${id}`, { handler: { field_mapping: { title: '$$$(' } } });
    expect(badUpdate.status).toBe(422);
  });

  it('deletes: 204, then 404', async () => {
    const made = await admin('post', BASE, ticketHook('doomed', { auth: { auth_type: 'bearer' } }));
    secrets.push(made.body.secret);
    expect((await admin('delete', `${BASE}/${made.body.webhook.id}`)).status).toBe(204);
    expect((await admin('get', `${BASE}/${made.body.webhook.id}`)).status).toBe(404);
    expect((await admin('delete', `${BASE}/${made.body.webhook.id}`)).status).toBe(404);
  });

  it('never puts a secret in a read', async () => {
    const path = await admin('post', BASE, ticketHook('by-path', { auth: { auth_type: 'path_token' } }));
    expect(path.body.url).toContain('?token=');
    secrets.push(path.body.secret);
    reads.push((await read(admin, BASE)).text, (await read(admin, `${BASE}/${path.body.webhook.id}`)).text);
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    for (const text of reads) for (const s of secrets) expect(text).not.toContain(s);
  });
});

describe('actions', () => {
  it('lists the registry', async () => {
    const answer = await read(viewer, `${BASE}/actions`);
    expect(answer.status).toBe(200);
    const ticket = answer.body.data.find((a: any) => a.name === 'createTicket');
    expect(ticket).toMatchObject({ entityType: expect.any(String), displayName: expect.any(String) });
    expect(ticket.targetFields.find((f: any) => f.name === 'title')).toMatchObject({ type: 'string', required: true });
  });
});

describe('the receiver', () => {
  it('answers as documented: 200, 401, 413, 415 and 429', async () => {
    const made = await admin('post', BASE, ticketHook('limited', { rate_limit_per_minute: 1 }));
    secrets.push(made.body.secret);
    const secret = made.body.secret;
    expect((await post('acme', 'limited', secret, { title: 'one' })).status).toBe(200);
    const limited = await post('acme', 'limited', secret, { title: 'two' });
    expect(limited.status).toBe(429);
    expect((await post('acme', 'no-such-hook', secret, { title: 'x' })).status).toBe(401);
    expect((await post('acme', 'alerts', 'wrong secret', { title: 'x' })).status).toBe(401);
    const huge = await post('acme', 'alerts', secret, JSON.stringify({ title: 'x'.repeat(server.env.bodyLimitBytes) }));
    expect(huge.status).toBe(413);
    const encoded = await post('acme', 'alerts', secret, '{}', { 'content-encoding': 'compress' });
    expect(encoded.status).toBe(415);
  });
});

describe('every operation', () => {
  const someId = '7f0c1a8e-2f43-4a7b-9d0e-2b1f8c3d4e5f';
  const operations: [any, string, unknown?][] = [
    ['get', BASE],
    ['post', BASE, ticketHook('nobody')],
    ['get', `${BASE}/actions`],
    ['get', `${BASE}/{id}`],
    ['put', `${BASE}/{id}`, { name: 'x' }],
    ['delete', `${BASE}/{id}`],
    ['post', `${BASE}/{id}/rotate-secret`, {}],
    ['post', `${BASE}/{id}/test`, { body: {} }],
    ['post', `${BASE}/{id}/capture-sample`, {}],
    ['delete', `${BASE}/{id}/capture-sample`],
    ['get', `${BASE}/{id}/deliveries`],
    ['get', `${BASE}/{id}/deliveries/{deliveryId}`],
    ['post', `${BASE}/{id}/deliveries/{deliveryId}/replay`],
    ['post', `${BASE}/{id}/preview-mapping`, { handler: {}, body: {} }],
    ['get', `${BASE}/{id}/versions`],
    ['post', `${BASE}/{id}/versions/1/restore`],
    ['post', `${BASE}/{id}/deliveries/{deliveryId}/use-as-sample`],
  ];
  const fill = (path: string, id: string, deliveryId = someId) => path.replace('{id}', id).replace('{deliveryId}', deliveryId);

  it('answers 401 without a key', async () => {
    const anonymous = restClient(server.url, null);
    for (const [method, path, body] of operations) {
      const answer = await anonymous(method, fill(path, someId), body);
      expect(answer.status, `${method} ${path}`).toBe(401);
    }
  });

  it('answers 403 to a user whose role grants nothing (reads included)', async () => {
    await db.pool.query(`insert into psa.roles (tenant, name) select tenant, 'nobody' from psa.tenants where slug = 'acme'`);
    const nobody = restClient(server.url, (await userWithKey(db.pool, 'acme', 'nobody')).key);
    const hook = (await admin('post', BASE, ticketHook('for-nobody'))).body.webhook.id;
    for (const [method, path, body] of operations) {
      if (path.endsWith('/actions')) continue; // the registry is not tenant data
      const answer = await nobody(method, fill(path, hook), body);
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body.error.code).toBe('FORBIDDEN');
    }
  });

  it('answers 400 naming the parameter for ids that are not uuids', async () => {
    for (const [method, path, body] of operations) {
      if (!path.includes('{id}')) continue;
      const answer = await admin(method, fill(path, 'nope'), body);
      expect(answer.status, `${method} ${path}`).toBe(400);
      expect(answer.body.error.details.field).toBe('id');
      if (path.includes('{deliveryId}')) {
        const second = await admin(method, fill(path, someId, 'nope'), body);
        expect(second.body.error.details.field).toBe('deliveryId');
      }
    }
  });

  it('answers 409 when an update takes a slug in use', async () => {
    const a = (await admin('post', BASE, ticketHook('slug-a'))).body.webhook.id;
    await admin('post', BASE, ticketHook('slug-b'));
    const answer = await admin('put', `${BASE}/${a}`, { slug: 'slug-b' });
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('CONFLICT');
  });
});

describe('the document', () => {
  it('documents the workflow envelope the worker builds', () => {
    checkComponent('WorkflowWebhookEnvelope', {
      source: 'alerts', body: { a: 1 }, headers: { 'content-type': 'application/json' }, verified: true, is_test: false, is_replay: false,
      delivery_id: '7f0c1a8e-2f43-4a7b-9d0e-2b1f8c3d4e5f', idempotency_key: null, received_at: '2026-01-02T03:04:05.123456Z',
    });
  });

  it('had every documented management operation exercised, with each success and error status it documents', () => {
    const missing: string[] = [];
    for (const [path, item] of Object.entries<any>(openApiDocument.paths)) {
      if (!path.startsWith('/api/v1/inbound-webhooks')) continue;
      for (const method of ['get', 'post', 'put', 'delete']) {
        if (!item[method]) continue;
        for (const status of Object.keys(item[method].responses)) {
          if (!exercised.has(`${method} ${path} ${status}`)) missing.push(`${method} ${path} ${status}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
