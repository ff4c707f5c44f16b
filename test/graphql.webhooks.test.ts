// The GraphQL management API over HTTP, as a UI would use it: every operation of issue 4 with
// an admin's key, each refused with FORBIDDEN for a viewer's, and 401 without a valid key.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow } from '../core/workflows.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { failure, graphqlClient, ok, userWithKey, type GraphqlRequest } from './support/graphql.ts';
import { makeTenant, settledDelivery, startTestServer, waitFor, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
let admin: GraphqlRequest;
let viewer: GraphqlRequest;

const WEBHOOK_FIELDS = `id inboundWebhookId name slug description authType authConfig handlerType handlerConfig
  idempotencySource idempotencyWindowSeconds rateLimitPerMinute isActive url samplePayload sampleCaptureUntil createdAt`;

const CREATE = `mutation ($input: CreateInboundWebhookInput!) {
  createInboundWebhook(input: $input) { url secret inboundWebhook { ${WEBHOOK_FIELDS} } }
}`;

function ticketHook(slug: string, extra: Record<string, unknown> = {}) {
  return {
    name: `Alerts ${slug}`,
    slug,
    auth: { auth_type: 'hmac_sha256' },
    handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } },
    rateLimitPerMinute: 0,
    ...extra,
  };
}

async function post(slug: string, secret: string, body: unknown) {
  const text = JSON.stringify(body);
  const res = await fetch(`${server.url}/api/inbound/acme/${slug}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', secret).update(text).digest('hex') },
    body: text,
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { env: { PUBLIC_URL: 'https://intake.example.com' } });
  await makeTenant(db.pool, 'acme');
  admin = graphqlClient(server.url, (await userWithKey(db.pool, 'acme', 'admin')).key);
  viewer = graphqlClient(server.url, (await userWithKey(db.pool, 'acme', 'viewer')).key);
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

describe('authentication', () => {
  it('answers 401 JSON without a key, with a malformed one, an unknown one or a revoked one', async () => {
    const query = '{ currentPermissions }';
    const unknown = `ik_${'0'.repeat(32)}_${'A'.repeat(43)}`;
    for (const key of [null, 'nonsense', unknown]) {
      const answer = await graphqlClient(server.url, key)(query);
      expect(answer.status, String(key)).toBe(401);
      expect(answer.body).toMatchObject({ error: 'unauthorized' });
    }
    const { key } = await userWithKey(db.pool, 'acme', 'admin');
    expect((await graphqlClient(server.url, key)(query)).status).toBe(200);
    await db.pool.query(`update psa.api_keys set revoked_at = now() where key_hash = sha256($1::bytea)`, [Buffer.from(key)]);
    expect((await graphqlClient(server.url, key)(query)).status).toBe(401);
    // not a Basic or other scheme either
    const basic = await fetch(`${server.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${key}` }, body: JSON.stringify({ query }),
    });
    expect(basic.status).toBe(401);
    // a deactivated user's keys stop working
    const other = await userWithKey(db.pool, 'acme', 'admin');
    expect((await graphqlClient(server.url, other.key)(query)).status).toBe(200);
    await db.pool.query(`update psa.users set is_active = false where user_id = $1`, [other.userId]);
    expect((await graphqlClient(server.url, other.key)(query)).status).toBe(401);
  });

  it('serves GraphiQL (Ruru) at /graphiql', async () => {
    const res = await fetch(`${server.url}/graphiql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    const asset = /(?:src|href)="([^"]*ruru-static[^"]*)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    expect((await fetch(new URL(asset!, `${server.url}/graphiql`))).status).toBe(200);
  });

  it('tells each user their permissions', async () => {
    expect(await ok(admin, '{ currentPermissions }')).toEqual({
      currentPermissions: [
        'inbound_webhook:create', 'inbound_webhook:delete', 'inbound_webhook:read', 'inbound_webhook:replay', 'inbound_webhook:update',
        'outbound_webhook:create', 'outbound_webhook:delete', 'outbound_webhook:read', 'outbound_webhook:replay', 'outbound_webhook:update',
      ],
    });
    expect(await ok(viewer, '{ currentPermissions }')).toEqual({ currentPermissions: ['inbound_webhook:read', 'outbound_webhook:read'] });
  });
});

describe('create', () => {
  it('creates a webhook and returns its secret once; the receiver accepts requests signed with it', async () => {
    const { createInboundWebhook: created } = await ok(admin, CREATE, { input: ticketHook('alerts', { description: 'Prometheus' }) });
    expect(created.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.url).toBe('https://intake.example.com/api/inbound/acme/alerts');
    expect(created.inboundWebhook).toMatchObject({
      name: 'Alerts alerts', slug: 'alerts', description: 'Prometheus', authType: 'hmac_sha256',
      authConfig: { signature_format: 'hex', tolerance_seconds: 300 }, handlerType: 'direct_action',
      handlerConfig: { action: 'createTicket', field_mapping: { title: 'title' } }, isActive: true,
      idempotencyWindowSeconds: 86400, rateLimitPerMinute: 0, url: created.url,
    });
    const answer = await post('alerts', created.secret, { title: 'Disk full' });
    expect(answer.status).toBe(200);
    const delivery = await settledDelivery(db.pool, answer.body.delivery_id);
    expect(delivery.dispatch_status).toBe('dispatched');
    // …and never again: reading the webhook has no secret field at all
    const read = await admin(`{ inboundWebhook(inboundWebhookId: "${created.inboundWebhook.inboundWebhookId}") { secret } }`);
    expect(read.errors?.[0]?.message).toMatch(/Cannot query field "secret"/);
  });

  it('records who created it', async () => {
    const { rows } = await db.pool.query(
      `select u.email from intake.inbound_webhooks w join psa.users u on u.tenant = w.tenant and u.user_id = w.created_by where w.slug = 'alerts'`,
    );
    expect(rows[0].email).toMatch(/^admin-\d+@acme\.example$/);
  });

  it('validates with the same rules as the CLI, with a code and a message a UI can show', async () => {
    expect(await failure(admin, CREATE, { input: ticketHook('Bad Slug') })).toMatchObject({
      code: 'VALIDATION', message: expect.stringContaining('slug: must be lowercase'),
    });
    expect(await failure(admin, CREATE, { input: ticketHook('x1', { auth: { auth_type: 'ip_allowlist', cidrs: ['nope'] } }) })).toMatchObject({
      code: 'VALIDATION', message: expect.stringContaining('auth.cidrs.0'),
    });
    expect(await failure(admin, CREATE, {
      input: ticketHook('x2', { handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'a +* b' } } }),
    })).toMatchObject({ code: 'BAD_EXPRESSION', message: expect.stringContaining('handler.field_mapping.title') });
    expect(await failure(admin, CREATE, {
      input: ticketHook('x3', { handler: { handler_type: 'direct_action', action: 'noSuchAction', field_mapping: {} } }),
    })).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('unknown action "noSuchAction"') });
    expect(await failure(admin, CREATE, { input: ticketHook('alerts') })).toMatchObject({
      code: 'CONFLICT', message: expect.stringContaining('slug'),
    });
    const { rows } = await db.pool.query(`select count(*)::int as n from intake.inbound_webhooks where slug like 'x%'`);
    expect(rows[0].n).toBe(0);
  });

  it('creates bearer, path-token and ip-allowlist webhooks (the secret suits the scheme)', async () => {
    const bearer = (await ok(admin, CREATE, { input: ticketHook('bearer', { auth: { auth_type: 'bearer' } }) })).createInboundWebhook;
    const res = await fetch(`${server.url}/api/inbound/acme/bearer`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer.secret}` }, body: '{"title":"x"}',
    });
    expect(res.status).toBe(200);
    const path = (await ok(admin, CREATE, { input: ticketHook('path', { auth: { auth_type: 'path_token' } }) })).createInboundWebhook;
    expect(path.url).toBe(`https://intake.example.com/api/inbound/acme/path?token=${encodeURIComponent(path.secret)}`);
    expect(path.inboundWebhook.url).toBe('https://intake.example.com/api/inbound/acme/path');
    const ip = (await ok(admin, CREATE, { input: ticketHook('ips', { auth: { auth_type: 'ip_allowlist', cidrs: ['127.0.0.1/32'] } }) })).createInboundWebhook;
    expect(ip.secret).toBeNull();
  });

  it('refuses a viewer (FORBIDDEN) and stores nothing', async () => {
    expect(await failure(viewer, CREATE, { input: ticketHook('by-viewer') })).toMatchObject({
      code: 'FORBIDDEN', message: expect.stringContaining('inbound_webhook:create'),
    });
    // invalid input from a viewer is still a permission problem first
    expect((await failure(viewer, CREATE, { input: ticketHook('Bad Slug') })).code).toBe('FORBIDDEN');
    const { rows } = await db.pool.query(`select count(*)::int as n from intake.inbound_webhooks where slug = 'by-viewer'`);
    expect(rows[0].n).toBe(0);
  });
});

describe('read', () => {
  it('lists webhooks with pagination and filters by active state and handler type', async () => {
    const page1 = await ok(viewer, `{ inboundWebhooks(first: 2, orderBy: SLUG_ASC) {
      totalCount nodes { slug } pageInfo { hasNextPage endCursor } } }`);
    expect(page1.inboundWebhooks.totalCount).toBe(4);
    expect(page1.inboundWebhooks.nodes.map((n: any) => n.slug)).toEqual(['alerts', 'bearer']);
    const page2 = await ok(viewer, `query ($after: Cursor) { inboundWebhooks(first: 2, after: $after, orderBy: SLUG_ASC) {
      nodes { slug } pageInfo { hasNextPage } } }`, { after: page1.inboundWebhooks.pageInfo.endCursor });
    expect(page2.inboundWebhooks.nodes.map((n: any) => n.slug)).toEqual(['ips', 'path']);
    expect(page2.inboundWebhooks.pageInfo.hasNextPage).toBe(false);

    const workflow = await createWorkflow(db.pool, 'acme', { name: 'Triage', steps: [{ id: 'a', set: { x: '1' } }] });
    await ok(admin, CREATE, { input: ticketHook('flow', { handler: { handler_type: 'workflow', workflow_id: workflow.id }, isActive: false }) });
    const filtered = await ok(viewer, `{
      workflowHooks: inboundWebhooks(condition: {handlerType: "workflow"}) { nodes { slug handlerConfig } }
      inactive: inboundWebhooks(condition: {isActive: false}) { nodes { slug } }
      workflows { nodes { workflowId name isActive } }
    }`);
    expect(filtered.workflowHooks.nodes).toEqual([{ slug: 'flow', handlerConfig: { workflow_id: workflow.id } }]);
    expect(filtered.inactive.nodes).toEqual([{ slug: 'flow' }]);
    expect(filtered.workflows.nodes).toEqual([{ workflowId: workflow.id, name: 'Triage', isActive: true }]);
  });

  it('reads one webhook by id, by slug and by node id', async () => {
    const { inboundWebhookBySlug: bySlug } = await ok(viewer, `{ inboundWebhookBySlug(slug: "alerts") { id inboundWebhookId slug } }`);
    const byId = await ok(viewer, `query ($id: UUID!) { inboundWebhook(inboundWebhookId: $id) { slug } }`, { id: bySlug.inboundWebhookId });
    const byNode = await ok(viewer, `query ($id: ID!) { node(id: $id) { ... on InboundWebhook { slug } } inboundWebhookById(id: $id) { slug } }`, { id: bySlug.id });
    expect([byId.inboundWebhook.slug, byNode.node.slug, byNode.inboundWebhookById.slug]).toEqual(['alerts', 'alerts', 'alerts']);
  });

  it("answers the README's first query", async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const body = /-d '(\{"query":.*\})'/.exec(readme.slice(readme.indexOf('## The management API')))?.[1];
    expect(body).toBeDefined();
    const { inboundWebhooks } = await ok(viewer, JSON.parse(body!).query);
    const alerts = inboundWebhooks.nodes.find((n: any) => n.url.endsWith('/alerts'));
    expect(alerts).toMatchObject({ name: 'Alerts alerts', isActive: true, deliveries: { nodes: [{ dispatchStatus: 'dispatched', errorMessage: null }] } });
  });

  it('lists the action registry for the handler editor', async () => {
    const { inboundActions } = await ok(viewer, `{ inboundActions { name entityType displayName targetFields { name type required enumValues } } }`);
    const createTicket = inboundActions.find((a: any) => a.name === 'createTicket');
    expect(createTicket).toMatchObject({ entityType: 'ticket' });
    expect(createTicket.targetFields).toContainEqual(expect.objectContaining({ name: 'title', type: 'string', required: true }));
    expect(new Set(inboundActions.map((a: any) => a.entityType)).size).toBeGreaterThanOrEqual(8);
  });
});

async function hookId(slug: string): Promise<string> {
  const { rows } = await db.pool.query(`select inbound_webhook_id from intake.inbound_webhooks where slug = $1`, [slug]);
  return rows[0].inbound_webhook_id;
}

const UPDATE = `mutation ($id: UUID!, $patch: InboundWebhookSettingsPatch!) {
  updateInboundWebhook(input: {inboundWebhookId: $id, patch: $patch}) { inboundWebhook { name slug description handlerConfig rateLimitPerMinute isActive } }
}`;

describe('update', () => {
  it('changes the settings it is given, validated as a whole; the rest stays', async () => {
    const id = await hookId('alerts');
    const { updateInboundWebhook } = await ok(admin, UPDATE, {
      id, patch: { name: 'Prometheus alerts', description: null, handler: { field_mapping: { title: '"[" & severity & "] " & title' } } },
    });
    expect(updateInboundWebhook.inboundWebhook).toEqual({
      name: 'Prometheus alerts', slug: 'alerts', description: null, rateLimitPerMinute: 0, isActive: true,
      handlerConfig: { action: 'createTicket', field_mapping: { title: '"[" & severity & "] " & title' } },
    });
    // the receiver dispatches with the new mapping
    const { rows } = await db.pool.query(`select config_version from intake.inbound_webhooks where inbound_webhook_id = $1`, [id]);
    expect(rows[0].config_version).toBe(2);
  });

  it('refuses invalid settings, an auth type change and unknown ids with their codes', async () => {
    const id = await hookId('alerts');
    expect(await failure(admin, UPDATE, { id, patch: { rateLimitPerMinute: -1 } })).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('rate_limit_per_minute') });
    expect(await failure(admin, UPDATE, { id, patch: { handler: { field_mapping: { title: '$$$(' } } } })).toMatchObject({ code: 'BAD_EXPRESSION' });
    expect(await failure(admin, UPDATE, { id, patch: { auth: { auth_type: 'bearer' } } })).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('auth_type') });
    expect(await failure(admin, UPDATE, { id, patch: { slug: 'bearer' } })).toMatchObject({ code: 'CONFLICT' });
    expect(await failure(admin, UPDATE, { id: '00000000-0000-4000-8000-000000000000', patch: { name: 'x' } })).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a viewer', async () => {
    expect(await failure(viewer, UPDATE, { id: await hookId('alerts'), patch: { name: 'mine' } })).toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('active state, sample capture, test requests', () => {
  it('switches a webhook off (the receiver then refuses it) and on again', async () => {
    const id = await hookId('bearer');
    const SET = `mutation ($id: UUID!, $active: Boolean!) { setInboundWebhookActive(input: {inboundWebhookId: $id, active: $active}) { inboundWebhook { isActive } } }`;
    expect((await failure(viewer, SET, { id, active: false })).code).toBe('FORBIDDEN');
    expect((await ok(admin, SET, { id, active: false })).setInboundWebhookActive.inboundWebhook).toEqual({ isActive: false });
    const send = () => fetch(`${server.url}/api/inbound/acme/bearer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect((await send()).status).toBe(401);
    expect((await ok(admin, SET, { id, active: true })).setInboundWebhookActive.inboundWebhook).toEqual({ isActive: true });
  });

  it('opens a capture window; the next verified body becomes the sample; clearing forgets it', async () => {
    const id = await hookId('alerts');
    const secret = (await ok(admin, `mutation ($id: UUID!) { rotateInboundWebhookSecret(input: {inboundWebhookId: $id, gracePeriodSeconds: 0}) { secret } }`, { id }))
      .rotateInboundWebhookSecret.secret;
    const START = `mutation ($id: UUID!) { startSampleCapture(input: {inboundWebhookId: $id, minutes: 10}) { inboundWebhook { sampleCaptureUntil samplePayload } } }`;
    expect((await failure(viewer, START, { id })).code).toBe('FORBIDDEN');
    const started = (await ok(admin, START, { id })).startSampleCapture.inboundWebhook;
    expect(new Date(started.sampleCaptureUntil).getTime()).toBeGreaterThan(Date.now() + 9 * 60_000);
    expect((await post('alerts', secret, { title: 'Sample me', severity: 'high' })).status).toBe(200);
    const sample = await ok(viewer, `query ($id: UUID!) { inboundWebhook(inboundWebhookId: $id) { samplePayload sampleCapturedAt sampleCaptureUntil } }`, { id });
    expect(sample.inboundWebhook).toMatchObject({ samplePayload: { title: 'Sample me', severity: 'high' }, sampleCaptureUntil: null });
    const CLEAR = `mutation ($id: UUID!) { clearSample(input: {inboundWebhookId: $id}) { inboundWebhook { samplePayload sampleCapturedAt } } }`;
    expect((await failure(viewer, CLEAR, { id })).code).toBe('FORBIDDEN');
    expect((await ok(admin, CLEAR, { id })).clearSample.inboundWebhook).toEqual({ samplePayload: null, sampleCapturedAt: null });
  });

  it('sends a test request through the same dispatch, marked as a test', async () => {
    const id = await hookId('alerts');
    const SEND = `mutation ($id: UUID!, $body: JSON!, $headers: JSON) {
      sendTestDelivery(input: {inboundWebhookId: $id, body: $body, headers: $headers}) {
        inboundWebhookDelivery { deliveryId isTest dispatchStatus requestPath requestHeaders requestBody } } }`;
    const variables = { id, body: { title: 'Testing 1 2 3', severity: 'low' }, headers: { 'X-Source': 'ui', Authorization: 'Bearer nope' } };
    expect((await failure(viewer, SEND, variables)).code).toBe('FORBIDDEN');
    const sent = (await ok(admin, SEND, variables)).sendTestDelivery.inboundWebhookDelivery;
    expect(sent).toMatchObject({
      isTest: true, dispatchStatus: 'pending', requestPath: '/api/inbound/acme/alerts',
      requestHeaders: { 'x-source': 'ui', 'content-type': 'application/json' }, requestBody: variables.body,
    });
    expect(sent.requestHeaders.authorization).toBeUndefined();
    const settled = await settledDelivery(db.pool, sent.deliveryId);
    expect(settled).toMatchObject({ dispatch_status: 'dispatched', is_test: true });
    const { rows } = await db.pool.query(`select title from psa.tickets where ticket_id = $1`, [settled.handler_outcome.ticket_id]);
    expect(rows[0].title).toBe('[low] Testing 1 2 3');
  });
});

describe('the delivery log', () => {
  it('lists deliveries filtered by webhook, status and date range, newest first', async () => {
    const id = await hookId('alerts');
    const { inboundWebhookDeliveries: all } = await ok(viewer, `query ($id: UUID!) {
      inboundWebhookDeliveries(condition: {inboundWebhookId: $id}, orderBy: RECEIVED_AT_DESC) {
        totalCount nodes { deliveryId dispatchStatus isTest receivedAt inboundWebhook { slug } } } }`, { id });
    expect(all.totalCount).toBe(3);
    expect(all.nodes[0]).toMatchObject({ isTest: true, inboundWebhook: { slug: 'alerts' } });
    const times = all.nodes.map((n: any) => Date.parse(n.receivedAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const middle = all.nodes[1].receivedAt;
    const ranged = await ok(viewer, `query ($id: UUID!, $from: Datetime) {
      from: inboundWebhookDeliveries(condition: {inboundWebhookId: $id, receivedFrom: $from}) { totalCount }
      before: inboundWebhookDeliveries(condition: {inboundWebhookId: $id, receivedBefore: $from}) { totalCount }
      failed: inboundWebhookDeliveries(condition: {inboundWebhookId: $id, dispatchStatus: "failed"}) { totalCount }
      dispatched: inboundWebhookDeliveries(condition: {inboundWebhookId: $id, dispatchStatus: "dispatched"}) { totalCount }
    }`, { id, from: middle });
    expect(ranged).toEqual({ from: { totalCount: 2 }, before: { totalCount: 1 }, failed: { totalCount: 0 }, dispatched: { totalCount: 3 } });
  });

  it('reads one delivery in full, replays it (needs replay) and shows the replay on it', async () => {
    const { rows } = await db.pool.query(
      `select delivery_id from intake.inbound_webhook_deliveries where not is_test and dispatch_status = 'dispatched' order by received_at limit 1`,
    );
    const deliveryId = rows[0].delivery_id;
    const REPLAY = `mutation ($id: UUID!) { replayInboundWebhookDelivery(input: {deliveryId: $id}) {
      inboundWebhookDelivery { deliveryId isReplay replayedFrom replayedFromDelivery { deliveryId } } } }`;
    expect(await failure(viewer, REPLAY, { id: deliveryId })).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('inbound_webhook:replay') });
    const replay = (await ok(admin, REPLAY, { id: deliveryId })).replayInboundWebhookDelivery.inboundWebhookDelivery;
    expect(replay).toMatchObject({ isReplay: true, replayedFrom: deliveryId, replayedFromDelivery: { deliveryId } });
    await settledDelivery(db.pool, replay.deliveryId);

    const { inboundWebhookDelivery: full } = await ok(viewer, `query ($id: UUID!) { inboundWebhookDelivery(deliveryId: $id) {
      requestMethod requestPath requestHeaders requestBody responseStatus responseBody dispatchStatus handlerOutcome
      durationMs errorMessage retryCount receivedAt dispatchedAt sourceIp userAgent
      replays { nodes { deliveryId dispatchStatus isReplay } } } }`, { id: deliveryId });
    expect(full).toMatchObject({
      requestMethod: 'POST', requestPath: '/api/inbound/acme/alerts', requestBody: { title: 'Disk full' },
      responseStatus: 200, responseBody: { delivery_id: deliveryId }, dispatchStatus: 'dispatched',
      handlerOutcome: expect.objectContaining({ ticket_id: expect.any(String) }), errorMessage: null, retryCount: 0,
    });
    expect(full.requestHeaders['x-signature']).toBeUndefined();
    expect(full.replays.nodes).toEqual([{ deliveryId: replay.deliveryId, dispatchStatus: 'dispatched', isReplay: true }]);
    expect(await failure(admin, REPLAY, { id: '00000000-0000-4000-8000-000000000000' })).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lists auth rejections, newest first, without bodies', async () => {
    expect((await post('alerts', 'wrong-secret-wrong-secret', { title: 'x' })).status).toBe(401);
    // the receiver answers first and writes the rejection log behind the answer
    const { inboundWebhookAuthRejections } = await waitFor(async () => {
      const data = await ok(viewer, `{ inboundWebhookAuthRejections(orderBy: RECEIVED_AT_DESC, first: 1) {
        nodes { webhookSlug authStatus reason requestMethod inboundWebhook { slug } } } }`);
      return data.inboundWebhookAuthRejections.nodes[0]?.webhookSlug === 'alerts' ? data : undefined;
    }, 3000, 'the rejection to be recorded');
    expect(inboundWebhookAuthRejections.nodes).toEqual([
      { webhookSlug: 'alerts', authStatus: 'rejected_signature', reason: expect.any(String), requestMethod: 'POST', inboundWebhook: { slug: 'alerts' } },
    ]);
  });
});

describe('delete', () => {
  it('refuses a viewer, deletes for an admin, and the webhook is gone', async () => {
    const id = await hookId('ips');
    const DELETE = `mutation ($id: UUID!) { deleteInboundWebhook(input: {inboundWebhookId: $id}) { inboundWebhook { slug } } }`;
    expect((await failure(viewer, DELETE, { id })).code).toBe('FORBIDDEN');
    expect((await ok(admin, DELETE, { id })).deleteInboundWebhook.inboundWebhook).toEqual({ slug: 'ips' });
    expect((await failure(admin, DELETE, { id })).code).toBe('NOT_FOUND');
    expect((await ok(viewer, `query ($id: UUID!) { inboundWebhook(inboundWebhookId: $id) { slug } }`, { id })).inboundWebhook).toBeNull();
  });
});
