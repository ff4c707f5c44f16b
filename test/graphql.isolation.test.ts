// Tenant isolation through the GraphQL API: tenant A's admin key cannot read, change, delete or
// replay anything of tenant B's — by id, by node id or by filter — and cannot name a tenant at
// all; the tenant comes from the API key only.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { failure, graphqlClient, ok, userWithKey, type GraphqlRequest } from './support/graphql.ts';
import { makeTenant, rejectionsRecorded, settledDelivery, startTestServer, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
const as: Record<'a' | 'b', GraphqlRequest> = {} as never;
/** tenant B's things, as B's admin sees them */
const theirs = { webhookId: '', webhookNodeId: '', deliveryId: '', deliveryNodeId: '', rejectionId: '' };

const CREATE = `mutation ($input: CreateInboundWebhookInput!) {
  createInboundWebhook(input: $input) { secret inboundWebhook { id inboundWebhookId } } }`;

async function snapshotOfB() {
  const { rows } = await db.pool.query(
    `select w.name, w.is_active, w.config_version, w.sample_capture_until, w.updated_at,
            (select count(*)::int from intake.inbound_webhook_deliveries d where d.tenant = w.tenant) as deliveries,
            (select count(*)::int from intake_private.inbound_webhook_secrets s where s.tenant = w.tenant and s.expires_at is null) as live_secrets
       from intake.inbound_webhooks w join psa.tenants t on t.tenant = w.tenant where t.slug = 'tenant-b'`,
  );
  return rows;
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  for (const slug of ['a', 'b'] as const) {
    await makeTenant(db.pool, `tenant-${slug}`);
    as[slug] = graphqlClient(server.url, (await userWithKey(db.pool, `tenant-${slug}`, 'admin')).key);
  }
  const input = (slug: string) => ({
    name: slug, slug, auth: { auth_type: 'hmac_sha256' }, rateLimitPerMinute: 0,
    handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } },
  });
  await ok(as.a, CREATE, { input: input('shared') });
  const b = (await ok(as.b, CREATE, { input: input('b-only') })).createInboundWebhook;
  await ok(as.b, CREATE, { input: input('shared') });
  theirs.webhookId = b.inboundWebhook.inboundWebhookId;
  theirs.webhookNodeId = b.inboundWebhook.id;
  const body = JSON.stringify({ title: 'B only' });
  const send = (signature: string) => fetch(`${server.url}/api/inbound/tenant-b/b-only`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': signature }, body,
  });
  const res = await send(createHmac('sha256', b.secret).update(body).digest('hex'));
  theirs.deliveryId = (await res.json()).delivery_id;
  await settledDelivery(db.pool, theirs.deliveryId);
  expect((await send('0'.repeat(64))).status).toBe(401);
  await rejectionsRecorded(db.pool, theirs.webhookId);
  const seen = await ok(as.b, `query ($id: UUID!) { inboundWebhookDelivery(deliveryId: $id) { id }
    inboundWebhookAuthRejections { nodes { rejectionId } } }`, { id: theirs.deliveryId });
  theirs.deliveryNodeId = seen.inboundWebhookDelivery.id;
  theirs.rejectionId = seen.inboundWebhookAuthRejections.nodes[0].rejectionId;
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

describe("tenant A's key", () => {
  it("reads none of B's things by id", async () => {
    const data = await ok(as.a, `query ($w: UUID!, $d: UUID!, $r: UUID!) {
      inboundWebhook(inboundWebhookId: $w) { slug }
      inboundWebhookBySlug(slug: "b-only") { slug }
      inboundWebhookDelivery(deliveryId: $d) { requestBody }
      inboundWebhookAuthRejection(rejectionId: $r) { reason }
    }`, { w: theirs.webhookId, d: theirs.deliveryId, r: theirs.rejectionId });
    expect(data).toEqual({ inboundWebhook: null, inboundWebhookBySlug: null, inboundWebhookDelivery: null, inboundWebhookAuthRejection: null });
  });

  it("reads none of B's things by node id", async () => {
    const data = await ok(as.a, `query ($w: ID!, $d: ID!) {
      w: node(id: $w) { id } d: node(id: $d) { id }
      inboundWebhookById(id: $w) { slug } inboundWebhookDeliveryById(id: $d) { deliveryId }
    }`, { w: theirs.webhookNodeId, d: theirs.deliveryNodeId });
    expect(data).toEqual({ w: null, d: null, inboundWebhookById: null, inboundWebhookDeliveryById: null });
    // and B's own key does read them: the ids are right
    const mine = await ok(as.b, `query ($w: ID!) { node(id: $w) { ... on InboundWebhook { slug } } }`, { w: theirs.webhookNodeId });
    expect(mine.node).toEqual({ slug: 'b-only' });
  });

  it("finds none of B's things by filter or in any list", async () => {
    const data = await ok(as.a, `query ($w: UUID!) {
      byWebhook: inboundWebhookDeliveries(condition: {inboundWebhookId: $w}) { totalCount }
      allDeliveries: inboundWebhookDeliveries { totalCount }
      bySlug: inboundWebhooks(condition: {slug: "b-only"}) { totalCount }
      shared: inboundWebhooks(condition: {slug: "shared"}) { nodes { inboundWebhookId } }
      rejections: inboundWebhookAuthRejections(condition: {inboundWebhookId: $w}) { totalCount }
      allRejections: inboundWebhookAuthRejections { totalCount }
      workflowRuns { totalCount }
    }`, { w: theirs.webhookId });
    expect(data).toMatchObject({
      byWebhook: { totalCount: 0 }, allDeliveries: { totalCount: 0 }, bySlug: { totalCount: 0 },
      rejections: { totalCount: 0 }, allRejections: { totalCount: 0 }, workflowRuns: { totalCount: 0 },
    });
    expect(data.shared.nodes).toHaveLength(1);
    expect(data.shared.nodes[0].inboundWebhookId).not.toBe(theirs.webhookId);
  });

  it("changes, deletes and replays nothing of B's: NOT_FOUND, and B's rows are untouched", async () => {
    const before = await snapshotOfB();
    const id = theirs.webhookId;
    const attempts: [string, Record<string, unknown>][] = [
      [`mutation ($id: UUID!) { updateInboundWebhook(input: {inboundWebhookId: $id, patch: {name: "pwned"}}) { inboundWebhook { name } } }`, { id }],
      [`mutation ($id: UUID!) { deleteInboundWebhook(input: {inboundWebhookId: $id}) { inboundWebhook { slug } } }`, { id }],
      [`mutation ($id: UUID!) { setInboundWebhookActive(input: {inboundWebhookId: $id, active: false}) { inboundWebhook { isActive } } }`, { id }],
      [`mutation ($id: UUID!) { startSampleCapture(input: {inboundWebhookId: $id}) { inboundWebhook { slug } } }`, { id }],
      [`mutation ($id: UUID!) { clearSample(input: {inboundWebhookId: $id}) { inboundWebhook { slug } } }`, { id }],
      [`mutation ($id: UUID!) { sendTestDelivery(input: {inboundWebhookId: $id, body: {}}) { inboundWebhookDelivery { deliveryId } } }`, { id }],
      [`mutation ($id: UUID!) { rotateInboundWebhookSecret(input: {inboundWebhookId: $id}) { secret } }`, { id }],
      [`mutation ($id: UUID!) { replayInboundWebhookDelivery(input: {deliveryId: $id}) { inboundWebhookDelivery { deliveryId } } }`, { id: theirs.deliveryId }],
    ];
    for (const [mutation, variables] of attempts) {
      const answer = await failure(as.a, mutation, variables);
      expect(answer.code, mutation).toBe('NOT_FOUND');
      expect(JSON.stringify(answer.data ?? {}), mutation).not.toMatch(/pwned|b-only|deliveryId":"[0-9a-f]/);
    }
    expect(await snapshotOfB()).toEqual(before);
  });

  it('cannot name a tenant: there is no such input, and what it creates is its own', async () => {
    const answer = await as.a(`mutation { createInboundWebhook(input: {tenant: "tenant-b", name: "x", slug: "x",
      auth: {auth_type: "bearer"}, handler: {handler_type: "workflow", workflow_id: "00000000-0000-4000-8000-000000000000"}}) { secret } }`);
    expect(answer.errors?.[0]?.message).toMatch(/tenant/);
    const schema = await ok(as.a, `{ __type(name: "InboundWebhook") { fields { name } } }`);
    expect(schema.__type.fields.map((f: any) => f.name)).not.toContain('tenant');
  });
});
