// The outbound REST API over HTTP against a running server (with its worker): every documented
// /api/v1/outbound-… operation is called, each real answer (status and body) validated against
// api/openapi.yaml (test/support/rest.ts), every status each documents exercised. Also: another
// tenant's ids are 404, a viewer's writes and a role-less user's reads are 403, and no read
// carries a signing secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../api/openapiDocument.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { userWithKey } from './support/graphql.ts';
import { startReceiver, type TestReceiver } from './support/outbound.ts';
import { exercised, restClient, type Method, type RestRequest } from './support/rest.ts';
import { makeTenant, startTestServer, waitFor, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
let receiver: TestReceiver;
let admin: RestRequest;
let viewer: RestRequest;
let other: RestRequest;
let nobody: RestRequest;
const secrets: string[] = [];
const reads: string[] = [];
const SUBS = '/api/v1/outbound-subscriptions';

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { env: { INTAKE_OUTBOUND_ALLOW_CIDRS: '127.0.0.0/8', INTAKE_OUTBOUND_ALLOW_HTTP: 'true', INTAKE_OUTBOUND_SWEEP_MS: '50' } });
  receiver = await startReceiver();
  await makeTenant(db.pool, 'acme');
  await makeTenant(db.pool, 'globex');
  admin = restClient(server.url, (await userWithKey(db.pool, 'acme', 'admin')).key);
  viewer = restClient(server.url, (await userWithKey(db.pool, 'acme', 'viewer')).key);
  other = restClient(server.url, (await userWithKey(db.pool, 'globex', 'admin')).key);
  await db.pool.query(`insert into psa.roles (tenant, name) select tenant, 'nobody' from psa.tenants where slug = 'acme'`);
  nobody = restClient(server.url, (await userWithKey(db.pool, 'acme', 'nobody')).key);
});
afterAll(async () => {
  await server?.stop();
  await receiver?.close();
  await db?.drop();
});

let id: string;
let deliveryId: string;
let eventId: string;
let recoveryId: string;

describe('subscriptions', () => {
  it('creates one: 201 with the whsec_ secret once; 400 naming the field', async () => {
    const created = await admin('post', SUBS, { url: `${receiver.url}/hook`, event_types: ['client.*'], headers: { 'X-Team': 'ops' } });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_/);
    expect(created.body.subscription).toMatchObject({ url: `${receiver.url}/hook`, event_types: ['client.*'], is_active: true, secret_expires_at: null });
    id = created.body.subscription.id;
    secrets.push(created.body.secret);
    receiver.secrets = [created.body.secret];
    const bad = await admin('post', SUBS, { url: 'https://169.254.169.254/', event_types: ['*'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'VALIDATION', details: { field: 'url' } });
    const unknown = await admin('post', SUBS, { url: `${receiver.url}/x`, event_types: ['*'], secret: 'mine' });
    expect(unknown.body.error.details.field).toBe('secret');
  });

  it('lists, reads and updates it', async () => {
    const list = await viewer('get', SUBS);
    reads.push(list.text);
    expect(list.body.data.map((s: any) => s.id)).toEqual([id]);
    const one = await viewer('get', `${SUBS}/${id}`);
    reads.push(one.text);
    expect(one.body.headers).toEqual({ 'X-Team': 'ops' });
    const updated = await admin('put', `${SUBS}/${id}`, { description: 'Ops board', rate_limit_per_minute: 600 });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ description: 'Ops board', rate_limit_per_minute: 600, event_types: ['client.*'] });
    expect((await admin('put', `${SUBS}/${id}`, { headers: { 'webhook-signature': 'x' } })).body.error.details.field).toBe('headers');
  });

  it('rotates the secret: the new one once, the old one signing until previous_secrets_expire_at', async () => {
    const rotated = await admin('post', `${SUBS}/${id}/rotate-secret`, { overlap_seconds: 600 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.subscription.secret_expires_at).toBe(rotated.body.previous_secrets_expire_at);
    secrets.push(rotated.body.secret);
    receiver.secrets.push(rotated.body.secret);
    expect((await admin('post', `${SUBS}/${id}/rotate-secret`, { overlap_seconds: 604_801 })).body.error.details.field).toBe('overlap_seconds');
  });
});

describe('events, deliveries, attempts', () => {
  it('lists the event a change made and its delivery with attempts, and the catalogue', async () => {
    const tenant = (await db.pool.query(`select tenant from psa.tenants where slug = 'acme'`)).rows[0].tenant;
    await db.pool.query(`insert into psa.clients (tenant, client_name) values ($1, 'Acme Corp')`, [tenant]);
    const request = await waitFor(async () => receiver.requests.find((r) => r.path === '/hook'), 15_000, 'the delivery');
    expect(request.verifiedBy).toEqual([0, 1]);
    const events = await viewer('get', '/api/v1/outbound-events?event_type=client.created&limit=10');
    reads.push(events.text);
    expect(events.body.data).toHaveLength(1);
    eventId = events.body.data[0].id;
    expect(events.body.data[0]).toMatchObject({ event_type: 'client.created', entity_type: 'client', entity_version: 1, payload: { type: 'client.created' } });
    expect((await viewer('get', `/api/v1/outbound-events/${eventId}`)).body.id).toBe(eventId);
    await waitFor(async () => ((await viewer('get', `/api/v1/outbound-deliveries?subscription_id=${id}&status=succeeded`)).body.data.length === 1 ? true : undefined));
    const page = await viewer('get', `/api/v1/outbound-deliveries?subscription_id=${id}&status=succeeded&from=2000-01-01T00:00:00Z&to=2999-01-01T00:00:00Z&limit=1`);
    deliveryId = page.body.data[0].id;
    expect(page.body.data[0]).toMatchObject({ event_id: eventId, event_type: 'client.created', attempt_count: 1 });
    const one = await viewer('get', `/api/v1/outbound-deliveries/${deliveryId}`);
    reads.push(one.text);
    expect(one.body.attempts).toEqual([expect.objectContaining({ attempt_number: 1, response_status: 200, succeeded: true, trigger: 'scheduled' })]);
    expect(one.body.payload.data.object.client_name).toBe('Acme Corp');
    const types = await viewer('get', '/api/v1/outbound-event-types');
    expect(types.body.data.map((t: any) => t.name)).toContain('invoice.paid');
    expect((await viewer('get', '/api/v1/outbound-deliveries?status=nope')).body.error.details.field).toBe('status');
    expect((await viewer('get', '/api/v1/outbound-events?cursor=nope')).body.error.details.field).toBe('cursor');
  });

  it('pages the log with next_cursor', async () => {
    const tenant = (await db.pool.query(`select tenant from psa.tenants where slug = 'acme'`)).rows[0].tenant;
    for (const n of [1, 2, 3]) await db.pool.query(`insert into psa.clients (tenant, client_name) values ($1, $2)`, [tenant, `Paged ${n}`]);
    const first = await viewer('get', '/api/v1/outbound-events?limit=2');
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await viewer('get', `/api/v1/outbound-events?limit=2&cursor=${first.body.next_cursor}`);
    const ids = [...first.body.data, ...second.body.data].map((e: any) => e.id);
    expect(new Set(ids).size).toBe(4);
  });

  it('sends a test event and retries a delivery: 202', async () => {
    const test = await admin('post', `${SUBS}/${id}/test`, { event_type: 'invoice.paid' });
    expect(test.status).toBe(202);
    expect(test.body).toMatchObject({ status: 'pending', event_type: 'invoice.paid' });
    expect((await admin('post', `${SUBS}/${id}/test`, { event_type: 'Not An Event' })).status).toBe(400);
    const retried = await admin('post', `/api/v1/outbound-deliveries/${deliveryId}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body.status).toBe('pending');
    await waitFor(async () => ((await viewer('get', `/api/v1/outbound-deliveries/${deliveryId}`)).body.attempts.length === 2 ? true : undefined), 15_000, 'the retry');
  });

  it('counts a recovery, starts it and shows its progress', async () => {
    await db.pool.query(`update intake.outbound_deliveries set status = 'failed' where delivery_id = $1`, [deliveryId]);
    const since = '2000-01-01T00:00:00.000Z';
    const count = await viewer('get', `${SUBS}/${id}/recover?since=${since}`);
    expect(count.status).toBe(200);
    expect(count.body.count).toBeGreaterThanOrEqual(1);
    expect((await viewer('get', `${SUBS}/${id}/recover`)).body.error.details.field).toBe('since');
    const started = await admin('post', `${SUBS}/${id}/recover`, { since });
    expect(started.status).toBe(202);
    expect(started.body.total).toBe(count.body.count);
    recoveryId = started.body.id;
    const done = await waitFor(async () => {
      const r = await viewer('get', `/api/v1/outbound-recoveries/${recoveryId}`);
      return r.body.status === 'finished' ? r.body : undefined;
    }, 15_000, 'the recovery');
    expect(done.processed).toBe(done.total);
  });
});

describe('refusals', () => {
  const writes = (): [Method, string, unknown?][] => [
    ['post', SUBS, { url: `${receiver.url}/v`, event_types: ['*'] }],
    ['put', `${SUBS}/${id}`, { description: 'no' }],
    ['delete', `${SUBS}/${id}`],
    ['post', `${SUBS}/${id}/rotate-secret`, {}],
    ['post', `${SUBS}/${id}/test`, {}],
    ['post', `${SUBS}/${id}/recover`, { since: '2000-01-01T00:00:00Z' }],
    ['post', `/api/v1/outbound-deliveries/${deliveryId}/retry`],
  ];
  const reads_ = (): [Method, string][] => [
    ['get', SUBS], ['get', `${SUBS}/${id}`], ['get', `${SUBS}/${id}/recover?since=2000-01-01T00:00:00Z`],
    ['get', `/api/v1/outbound-recoveries/${recoveryId}`], ['get', '/api/v1/outbound-deliveries'],
    ['get', `/api/v1/outbound-deliveries/${deliveryId}`], ['get', '/api/v1/outbound-events'], ['get', `/api/v1/outbound-events/${eventId}`],
  ];

  it("answers 403 to a viewer's writes, and to a role-less user's reads", async () => {
    for (const [method, path, body] of writes()) {
      const answer = await viewer(method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(403);
    }
    for (const [method, path] of reads_()) {
      const answer = await nobody(method, path);
      expect(answer.status, `${method} ${path}`).toBe(403);
    }
  });

  it("answers 404 for another tenant's ids", async () => {
    for (const [method, path, body] of [...writes().slice(1), ...reads_().filter(([, p]) => p.includes(id) || p.includes(deliveryId) || p.includes(eventId) || p.includes(recoveryId))]) {
      const answer = await other(method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(404);
    }
  });

  it('answers 401 without a key and 400 for a malformed id', async () => {
    const anonymous = restClient(server.url, null);
    for (const [method, path, body] of [...writes(), ...reads_(), ['get', '/api/v1/outbound-event-types'] as [Method, string]]) {
      expect((await anonymous(method, path, body)).status, `${method} ${path}`).toBe(401);
      if (path.match(/[0-9a-f]{8}-/)) {
        const broken = path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/, 'not-a-uuid');
        expect((await admin(method, broken, body)).status, `${method} ${broken}`).toBe(400);
      }
    }
  });

  it('deletes: 204, then 404; no read ever carried a secret', async () => {
    expect((await admin('delete', `${SUBS}/${id}`)).status).toBe(204);
    expect((await admin('get', `${SUBS}/${id}`)).status).toBe(404);
    for (const text of reads) for (const s of secrets) expect(text).not.toContain(s.slice(6));
  });

  it('had every documented outbound operation exercised, with each status it documents', () => {
    const missing: string[] = [];
    for (const [path, item] of Object.entries<any>(openApiDocument.paths)) {
      if (!path.startsWith('/api/v1/outbound-')) continue;
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
