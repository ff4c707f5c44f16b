// Cursor pagination of the delivery log while deliveries keep arriving: paging newest-first
// with `after` cursors returns every delivery that existed at the start exactly once, in order,
// however many arrive between and during the page requests (the cursors are keyset cursors on
// received_at plus the primary key, so equal timestamps are no problem either).
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { graphqlClient, ok, userWithKey, type GraphqlRequest } from './support/graphql.ts';
import { makeTenant, startTestServer, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
let viewer: GraphqlRequest;
let hook: { id: string; secret: string };

const PAGE = `query ($id: UUID!, $after: Cursor) {
  inboundWebhookDeliveries(condition: {inboundWebhookId: $id}, orderBy: RECEIVED_AT_DESC, first: 7, after: $after) {
    nodes { deliveryId receivedAt } pageInfo { hasNextPage endCursor } } }`;

async function arrive(n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    const body = JSON.stringify({ title: `late ${i}` });
    const res = await fetch(`${server.url}/api/inbound/acme/log`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', hook.secret).update(body).digest('hex') },
      body,
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }));
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { worker: false });
  await makeTenant(db.pool, 'acme');
  const admin = graphqlClient(server.url, (await userWithKey(db.pool, 'acme', 'admin')).key);
  viewer = graphqlClient(server.url, (await userWithKey(db.pool, 'acme', 'viewer')).key);
  const created = (await ok(admin, `mutation ($input: CreateInboundWebhookInput!) {
    createInboundWebhook(input: $input) { secret inboundWebhook { inboundWebhookId } } }`, {
    input: { name: 'Log', slug: 'log', auth: { auth_type: 'hmac_sha256' }, rateLimitPerMinute: 0,
      handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } } },
  })).createInboundWebhook;
  hook = { id: created.inboundWebhook.inboundWebhookId, secret: created.secret };
  // 30 earlier deliveries over the last hour, in groups of three that share a timestamp
  await db.pool.query(
    `insert into intake.inbound_webhook_deliveries (tenant, inbound_webhook_id, received_at, request_method, request_path, request_body)
     select w.tenant, w.inbound_webhook_id, now() - make_interval(mins => 60 - (g / 3)), 'POST', '/api/inbound/acme/log', jsonb_build_object('n', g)
       from intake.inbound_webhooks w, generate_series(0, 29) g
      where w.inbound_webhook_id = $1`,
    [hook.id],
  );
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

it('pages through the log exactly once, in order, while new deliveries arrive between and during requests', async () => {
  const { rows } = await db.pool.query(
    `select delivery_id from intake.inbound_webhook_deliveries where inbound_webhook_id = $1 order by received_at desc, delivery_id desc`,
    [hook.id],
  );
  const existing = rows.map((r) => r.delivery_id as string);
  expect(existing).toHaveLength(30);

  const seen: string[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    // new deliveries arrive while the page is being read…
    const [page]: [any, void] = await Promise.all([ok(viewer, PAGE, { id: hook.id, after }), arrive(3)]);
    const { nodes, pageInfo }: { nodes: any[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = page.inboundWebhookDeliveries;
    seen.push(...nodes.map((n: any) => n.deliveryId));
    pages += 1;
    // …and between pages
    await arrive(2);
    if (!pageInfo.hasNextPage) break;
    after = pageInfo.endCursor;
    expect(pages).toBeLessThan(20);
  }
  // Page 1 may have caught some of the first arrivals (they are the newest); after that,
  // every page continues exactly where the last one ended.
  const fromExisting = seen.filter((id) => existing.includes(id));
  expect(fromExisting).toEqual(existing);
  expect(new Set(seen).size).toBe(seen.length);
  const firstExisting = seen.indexOf(existing[0]!);
  expect(seen.slice(firstExisting)).toEqual(existing);
  const { rows: count } = await db.pool.query(`select count(*)::int as n from intake.inbound_webhook_deliveries where inbound_webhook_id = $1`, [hook.id]);
  expect(count[0].n).toBe(30 + pages * 5);
});

it('pages oldest-first (RECEIVED_AT_ASC) just as stably', async () => {
  const { rows } = await db.pool.query(
    `select delivery_id from intake.inbound_webhook_deliveries where inbound_webhook_id = $1 order by received_at asc, delivery_id asc limit 12`,
    [hook.id],
  );
  const oldest = rows.map((r) => r.delivery_id as string);
  const PAGE_ASC = `query ($id: UUID!, $after: Cursor) {
    inboundWebhookDeliveries(condition: {inboundWebhookId: $id}, orderBy: RECEIVED_AT_ASC, first: 4, after: $after) {
      nodes { deliveryId } pageInfo { endCursor } } }`;
  const seen: string[] = [];
  let after: string | null = null;
  for (let i = 0; i < 3; i++) {
    const [page]: [any, void] = await Promise.all([ok(viewer, PAGE_ASC, { id: hook.id, after }), arrive(2)]);
    seen.push(...page.inboundWebhookDeliveries.nodes.map((n: any) => n.deliveryId));
    after = page.inboundWebhookDeliveries.pageInfo.endCursor;
  }
  expect(seen).toEqual(oldest);
});
