// What the Settings → Webhooks UI reads and starts over GraphQL (issue 11), against a real server
// and worker: InboundWebhook.lastDeliveryAt, bulk replay (the count for a filter equals the
// delivery log's totalCount for the same condition and the number replayed; progress reaches the
// total; a viewer may count but not start), currentTenant with the effective inbound flag, and a
// webhook's auth rejections in time order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { failure, graphqlClient, ok, userWithKey, type GraphqlRequest } from './support/graphql.ts';
import { makeTenant, makeWebhook, startTestServer, waitFor, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
let admin: GraphqlRequest;
let viewer: GraphqlRequest;
let otherAdmin: GraphqlRequest;
const hooks: Record<'alerts' | 'billing' | 'empty' | 'theirs', string> = { alerts: '', billing: '', empty: '', theirs: '' };
let tenant = '';

const handler = { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } } as const;

/** Settled deliveries written straight into the log, so nothing dispatches them but a replay. */
async function seedDeliveries(tenantId: string, hookId: string, rows: { minutesAgo: number; status: string; isTest?: boolean; isReplay?: boolean }[]) {
  await db.pool.query(
    `insert into intake.inbound_webhook_deliveries (tenant, inbound_webhook_id, request_method, request_path, request_body,
       body_format, content_type, received_at, dispatch_status, is_test, is_replay, error_message)
     select $1, $2, 'POST', '/api/inbound/x/y', jsonb_build_object('title', 'seeded ' || r.i), 'json', 'application/json',
            now() - make_interval(mins => r.minutes), r.status, r.is_test, r.is_replay,
            case when r.status = 'failed' then 'seeded failure' end
       from unnest($3::int[], $4::text[], $5::boolean[], $6::boolean[]) with ordinality as r (minutes, status, is_test, is_replay, i)`,
    [tenantId, hookId, rows.map((r) => r.minutesAgo), rows.map((r) => r.status), rows.map((r) => r.isTest ?? false), rows.map((r) => r.isReplay ?? false)],
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  tenant = await makeTenant(db.pool, 'acme');
  const other = await makeTenant(db.pool, 'other');
  for (const slug of ['alerts', 'billing', 'empty'] as const) {
    hooks[slug] = (await makeWebhook(db.pool, 'acme', { name: slug, slug, auth: { auth_type: 'bearer' }, handler })).id;
  }
  hooks.theirs = (await makeWebhook(db.pool, 'other', { name: 'alerts', slug: 'alerts', auth: { auth_type: 'bearer' }, handler })).id;
  admin = graphqlClient(server.url, (await userWithKey(db.pool, 'acme', 'admin')).key);
  viewer = graphqlClient(server.url, (await userWithKey(db.pool, 'acme', 'viewer')).key);
  otherAdmin = graphqlClient(server.url, (await userWithKey(db.pool, 'other', 'admin')).key);

  // alerts: 12 failed (2 of them tests), 5 dispatched, 3 failed replays, spread over 2 hours
  await seedDeliveries(tenant, hooks.alerts, [
    ...Array.from({ length: 10 }, (_, i) => ({ minutesAgo: 10 + i * 10, status: 'failed' })),
    { minutesAgo: 15, status: 'failed', isTest: true },
    { minutesAgo: 25, status: 'failed', isTest: true },
    ...Array.from({ length: 5 }, (_, i) => ({ minutesAgo: 12 + i * 10, status: 'dispatched' })),
    ...Array.from({ length: 3 }, (_, i) => ({ minutesAgo: 13 + i * 10, status: 'failed', isReplay: true })),
  ]);
  await seedDeliveries(tenant, hooks.billing, [
    { minutesAgo: 5, status: 'failed' }, { minutesAgo: 300, status: 'failed' }, { minutesAgo: 6, status: 'duplicate' },
  ]);
  // another tenant's failures: never counted or replayed for acme
  await seedDeliveries(other, hooks.theirs, Array.from({ length: 7 }, (_, i) => ({ minutesAgo: 1 + i, status: 'failed' })));
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

const COUNT_AND_LOG = `query ($c: InboundWebhookDeliveryCondition!, $hook: UUID, $status: String, $isTest: Boolean, $isReplay: Boolean,
    $from: Datetime, $before: Datetime) {
  bulkReplayCount(inboundWebhookId: $hook, dispatchStatus: $status, isTest: $isTest, isReplay: $isReplay,
                  receivedFrom: $from, receivedBefore: $before)
  inboundWebhookDeliveries(condition: $c) { totalCount nodes { deliveryId } }
}`;

const START = `mutation ($input: StartBulkReplayInput!) {
  startBulkReplay(input: $input) {
    bulkReplay { bulkReplayId status total processed failed cutoffAt startedAt startedBy inboundWebhookId dispatchStatus isTest }
  }
}`;
const PROGRESS = `query ($id: UUID!) { bulkReplay(bulkReplayId: $id) { status total processed failed errorMessage finishedAt } }`;

interface Filter {
  inboundWebhookId?: string;
  dispatchStatus?: string;
  isTest?: boolean;
  isReplay?: boolean;
  receivedFrom?: string;
  receivedBefore?: string;
}

function minutesAgo(n: number): string {
  return new Date(Date.now() - n * 60_000).toISOString();
}

/** The count and the delivery log's list for one filter, as the UI asks them. */
async function countAndLog(filter: Filter) {
  const data = await ok(admin, COUNT_AND_LOG, {
    c: filter,
    hook: filter.inboundWebhookId, status: filter.dispatchStatus, isTest: filter.isTest, isReplay: filter.isReplay,
    from: filter.receivedFrom, before: filter.receivedBefore,
  });
  return { count: data.bulkReplayCount as number, totalCount: data.inboundWebhookDeliveries.totalCount as number,
    ids: (data.inboundWebhookDeliveries.nodes as { deliveryId: string }[]).map((n) => n.deliveryId).sort() };
}

async function finished(id: string) {
  return waitFor(async () => {
    const { bulkReplay } = await ok(viewer, PROGRESS, { id });
    return bulkReplay.status === 'running' ? undefined : bulkReplay;
  }, 20_000, `bulk replay ${id} to finish`);
}

/** The originals replayed since `since`, each with how many replays it got. */
async function replayedSince(since: Date): Promise<Map<string, number>> {
  const { rows } = await db.pool.query(
    `select replayed_from::text as id, count(*)::int as n from intake.inbound_webhook_deliveries
      where is_replay and received_at >= $1 group by 1`,
    [since],
  );
  return new Map(rows.map((r) => [r.id, r.n]));
}

describe('lastDeliveryAt', () => {
  it('is the newest delivery of each webhook, null for one without deliveries', async () => {
    const { inboundWebhooks } = await ok(viewer, `{ inboundWebhooks(orderBy: SLUG_ASC) { nodes { slug lastDeliveryAt } } }`);
    const { rows } = await db.pool.query(
      `select w.slug, max(d.received_at) as last from intake.inbound_webhooks w
         left join intake.inbound_webhook_deliveries d on d.tenant = w.tenant and d.inbound_webhook_id = w.inbound_webhook_id
        where w.tenant = $1 group by 1 order by 1`,
      [tenant],
    );
    expect(inboundWebhooks.nodes.map((n: any) => [n.slug, n.lastDeliveryAt && new Date(n.lastDeliveryAt).getTime()]))
      .toEqual(rows.map((r) => [r.slug, r.last && r.last.getTime()]));
    expect(inboundWebhooks.nodes.find((n: any) => n.slug === 'empty').lastDeliveryAt).toBeNull();
    expect(new Date(inboundWebhooks.nodes.find((n: any) => n.slug === 'billing').lastDeliveryAt).getTime())
      .toBeGreaterThan(Date.now() - 6 * 60_000);
  });
});

describe('bulk replay', () => {
  it("counts exactly what the delivery log's condition lists, for every filter", async () => {
    const filters: [Filter, number][] = [
      [{ inboundWebhookId: hooks.alerts, dispatchStatus: 'failed' }, 15],
      [{ inboundWebhookId: hooks.alerts, dispatchStatus: 'failed', isTest: false, isReplay: false }, 10],
      [{ inboundWebhookId: hooks.alerts, isTest: true }, 2],
      [{ inboundWebhookId: hooks.alerts, isReplay: true }, 3],
      [{ dispatchStatus: 'failed' }, 17],
      [{}, 23],
      [{ dispatchStatus: 'failed', receivedFrom: minutesAgo(55), receivedBefore: minutesAgo(18) }, 7],
      [{ inboundWebhookId: hooks.billing, receivedBefore: minutesAgo(60) }, 1],
      [{ inboundWebhookId: hooks.empty }, 0],
      [{ inboundWebhookId: hooks.theirs }, 0], // another tenant's webhook: nothing, as in the log
    ];
    for (const [filter, expected] of filters) {
      const { count, totalCount } = await countAndLog(filter);
      expect([count, totalCount], JSON.stringify(filter)).toEqual([expected, expected]);
    }
    // a viewer may count (read) too
    expect((await ok(viewer, `{ bulkReplayCount(dispatchStatus: "failed") }`)).bulkReplayCount).toBe(17);
  });

  it('replays exactly the deliveries it counted, each once, and its progress reaches the total', async () => {
    for (const filter of [
      { inboundWebhookId: hooks.alerts, dispatchStatus: 'failed', isTest: false, isReplay: false },
      { dispatchStatus: 'failed', receivedFrom: minutesAgo(55), receivedBefore: minutesAgo(18), isReplay: false },
      { inboundWebhookId: hooks.billing },
    ] satisfies Filter[]) {
      const { count, ids } = await countAndLog(filter);
      const since = new Date();
      const { startBulkReplay } = await ok(admin, START, { input: filter });
      const started = startBulkReplay.bulkReplay;
      expect(started).toMatchObject({ status: 'running', total: count, processed: 0, failed: 0 });
      expect(started.startedBy).toMatch(/^[0-9a-f-]{36}$/);
      const done = await finished(started.bulkReplayId);
      expect(done, JSON.stringify(filter)).toMatchObject({ status: 'finished', total: count, processed: count, failed: 0, errorMessage: null });
      expect(done.finishedAt).not.toBeNull();
      const replayed = await replayedSince(since);
      expect([...replayed.keys()].sort(), JSON.stringify(filter)).toEqual(ids);
      expect([...replayed.values()].every((n) => n === 1)).toBe(true);
    }
    // the replays it made are ordinary replays: in the log, linked to their originals
    const { inboundWebhookDeliveries } = await ok(viewer, `query ($hook: UUID!) {
      inboundWebhookDeliveries(condition: {inboundWebhookId: $hook, isReplay: true}, orderBy: RECEIVED_AT_DESC, first: 1) {
        nodes { isReplay replayedFromDelivery { deliveryId isReplay } } } }`, { hook: hooks.billing });
    expect(inboundWebhookDeliveries.nodes[0]).toMatchObject({ isReplay: true, replayedFromDelivery: { isReplay: false } });
  });

  it('never takes the replays it makes, nor deliveries received after its start', async () => {
    // everything of billing, replays included: its own replays arrive after the cut-off
    const before = (await countAndLog({ inboundWebhookId: hooks.billing })).count;
    const { startBulkReplay } = await ok(admin, START, { input: { inboundWebhookId: hooks.billing } });
    const done = await finished(startBulkReplay.bulkReplay.bulkReplayId);
    expect(done).toMatchObject({ status: 'finished', total: before, processed: before });
    expect((await countAndLog({ inboundWebhookId: hooks.billing })).count).toBe(before * 2);
  });

  it('lists bulk replays newest first, with their webhook', async () => {
    const { bulkReplays } = await ok(viewer, `{ bulkReplays(orderBy: STARTED_AT_DESC, first: 2) {
      totalCount nodes { status total processed inboundWebhook { slug } } } }`);
    expect(bulkReplays.totalCount).toBe(4);
    expect(bulkReplays.nodes[0]).toMatchObject({ status: 'finished', inboundWebhook: { slug: 'billing' } });
    const { inboundWebhook } = await ok(viewer, `query ($id: UUID!) { inboundWebhook(inboundWebhookId: $id) {
      bulkReplays(orderBy: STARTED_AT_DESC) { totalCount } } }`, { id: hooks.billing });
    expect(inboundWebhook.bulkReplays.totalCount).toBe(2);
  });

  it('finishes at once when nothing matches', async () => {
    const { startBulkReplay } = await ok(admin, START, { input: { inboundWebhookId: hooks.empty } });
    expect(startBulkReplay.bulkReplay).toMatchObject({ status: 'finished', total: 0, processed: 0 });
  });

  it('refuses a viewer (FORBIDDEN), a bad status (VALIDATION) and a webhook of another tenant (NOT_FOUND)', async () => {
    expect(await failure(viewer, START, { input: { dispatchStatus: 'failed' } })).toMatchObject({
      code: 'FORBIDDEN', message: expect.stringContaining('inbound_webhook:replay'),
    });
    expect(await failure(admin, START, { input: { dispatchStatus: 'broken' } })).toMatchObject({
      code: 'VALIDATION', message: expect.stringContaining('dispatchStatus must be one of'),
    });
    expect((await failure(admin, `{ bulkReplayCount(dispatchStatus: "broken") }`)).code).toBe('VALIDATION');
    expect(await failure(admin, START, { input: { inboundWebhookId: hooks.theirs } })).toMatchObject({ code: 'NOT_FOUND' });
    const { rows } = await db.pool.query(`select count(*)::int as n from intake.bulk_replays where started_by is not null and total > 0 and tenant <> $1`, [tenant]);
    expect(rows[0].n).toBe(0);
  });

  it("never counts or replays another tenant's deliveries, and shows no other tenant's runs", async () => {
    const since = new Date();
    const { startBulkReplay } = await ok(otherAdmin, START, { input: { dispatchStatus: 'failed', isReplay: false } });
    expect(startBulkReplay.bulkReplay.total).toBe(7);
    const done = await waitFor(async () => {
      const { bulkReplay } = await ok(otherAdmin, PROGRESS, { id: startBulkReplay.bulkReplay.bulkReplayId });
      return bulkReplay.status === 'running' ? undefined : bulkReplay;
    }, 20_000);
    expect(done).toMatchObject({ status: 'finished', processed: 7 });
    const { rows } = await db.pool.query(
      `select distinct tenant::text from intake.inbound_webhook_deliveries where is_replay and received_at >= $1`, [since]);
    expect(rows.map((r) => r.tenant)).not.toContain(tenant);
    // acme sees neither their run nor their deliveries in its own
    expect((await ok(admin, PROGRESS, { id: startBulkReplay.bulkReplay.bulkReplayId })).bulkReplay).toBeNull();
    expect((await ok(admin, `{ bulkReplays { totalCount } }`)).bulkReplays.totalCount).toBe(5);
  });
});

describe('currentTenant', () => {
  it('says whether inbound webhooks are on for the tenant, following the deployment default', async () => {
    const QUERY = `{ currentTenant { tenantId slug name inboundWebhooksEnabled inboundWebhooksEnabledSetting } }`;
    expect((await ok(viewer, QUERY)).currentTenant).toEqual({
      tenantId: tenant, slug: 'acme', name: 'Tenant acme', inboundWebhooksEnabled: true, inboundWebhooksEnabledSetting: null,
    });
    await db.pool.query(`update psa.tenants set inbound_webhooks_enabled = false where tenant = $1`, [tenant]);
    expect((await ok(viewer, QUERY)).currentTenant).toMatchObject({ inboundWebhooksEnabled: false, inboundWebhooksEnabledSetting: false });
    await db.pool.query(`update psa.tenants set inbound_webhooks_enabled = null where tenant = $1`, [tenant]);
    // a deployment that is off by default
    const off = await startTestServer(db.url, { worker: false, env: { INTAKE_INBOUND_WEBHOOKS_ENABLED: 'false' } });
    try {
      const { key } = await userWithKey(db.pool, 'acme', 'viewer');
      expect((await ok(graphqlClient(off.url, key), QUERY)).currentTenant).toMatchObject({
        slug: 'acme', inboundWebhooksEnabled: false, inboundWebhooksEnabledSetting: null,
      });
    } finally {
      await off.stop();
    }
  });
});

describe('auth rejections', () => {
  it("lists one webhook's rejections newest first", async () => {
    await db.pool.query(
      `insert into intake.inbound_webhook_auth_rejections (tenant, inbound_webhook_id, webhook_slug, received_at, auth_status, reason, request_method, source_ip, user_agent)
       select $1, case when i % 2 = 0 then $2::uuid end, case when i % 2 = 0 then 'alerts' else 'nope' end, now() - make_interval(mins => i),
              case when i % 2 = 0 then 'rejected_bearer' else 'unknown_webhook' end, 'seeded', 'POST', '192.0.2.1', 'curl/8'
         from generate_series(1, 6) i`,
      [tenant, hooks.alerts],
    );
    const { inboundWebhookAuthRejections: list } = await ok(viewer, `query ($hook: UUID!) {
      inboundWebhookAuthRejections(condition: {inboundWebhookId: $hook}, orderBy: RECEIVED_AT_DESC) {
        nodes { receivedAt webhookSlug authStatus reason sourceIp userAgent } } }`, { hook: hooks.alerts });
    expect(list.nodes).toHaveLength(3);
    expect(list.nodes[0]).toMatchObject({ webhookSlug: 'alerts', authStatus: 'rejected_bearer', sourceIp: '192.0.2.1', userAgent: 'curl/8' });
    const times = list.nodes.map((n: any) => new Date(n.receivedAt).getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });
});
