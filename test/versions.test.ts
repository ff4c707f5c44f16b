// Configuration versions (issue 12): every saved configuration is kept, whichever path saved it
// (GraphQL, REST, a DBA's UPDATE in psql), with who and what changed and never a secret; each
// delivery records the version it was dispatched with; a version can be restored; and a replay
// runs with the current configuration or with the one its original was dispatched with.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { failure, graphqlClient, ok, userWithKey, type GraphqlRequest } from './support/graphql.ts';
import { postSigned } from './support/inbound.ts';
import { makeTenant, settledDelivery, startTestServer, waitFor, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
let admin: GraphqlRequest;
let adminEmail: string;
let viewer: GraphqlRequest;
let hook: { id: string; secret: string };

const VERSIONS = `query ($id: UUID!) {
  inboundWebhook(inboundWebhookId: $id) { currentVersion versions { version createdAt createdBy changes config restoredFrom } }
}`;
const UPDATE = `mutation ($input: UpdateInboundWebhookInput!) { updateInboundWebhook(input: $input) { inboundWebhook { currentVersion } } }`;
const RESTORE = `mutation ($input: RestoreInboundWebhookVersionInput!) {
  restoreInboundWebhookVersion(input: $input) { inboundWebhook { currentVersion handlerConfig isActive } }
}`;
const REPLAY = `mutation ($input: ReplayInboundWebhookDeliveryInput!) {
  replayInboundWebhookDelivery(input: $input) { inboundWebhookDelivery { deliveryId dispatchConfigVersion } }
}`;

const versions = async (id = hook.id) => (await ok(admin, VERSIONS, { id })).inboundWebhook;

async function send(body: unknown) {
  const answer = await postSigned(server.url, 'acme', 'alerts', hook.secret, body);
  expect(answer.status).toBe(200);
  return settledDelivery(db.pool, answer.body.delivery_id);
}

async function ticketTitle(delivery: { handler_outcome: { ticket_id: string } }) {
  const { rows } = await db.pool.query(`select title from psa.tickets where ticket_id = $1`, [delivery.handler_outcome.ticket_id]);
  return rows[0].title;
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  await makeTenant(db.pool, 'acme');
  const user = await userWithKey(db.pool, 'acme', 'admin');
  admin = graphqlClient(server.url, user.key);
  adminEmail = user.email;
  viewer = graphqlClient(server.url, (await userWithKey(db.pool, 'acme', 'viewer')).key);
  const created = await ok(admin, `mutation ($input: CreateInboundWebhookInput!) {
    createInboundWebhook(input: $input) { secret inboundWebhook { inboundWebhookId } }
  }`, { input: {
    name: 'Alerts', slug: 'alerts', auth: { auth_type: 'hmac_sha256' }, rateLimitPerMinute: 0,
    handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: '"first: " & title' } },
  } });
  hook = { id: created.createInboundWebhook.inboundWebhook.inboundWebhookId, secret: created.createInboundWebhook.secret };
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

describe('versions', () => {
  it('keeps every saved configuration with who saved it and what changed, from the API and from psql', async () => {
    expect(await versions()).toMatchObject({ currentVersion: 1, versions: [{ version: 1, createdBy: adminEmail, changes: [], restoredFrom: null }] });
    await ok(admin, UPDATE, { input: { inboundWebhookId: hook.id, patch: { handler: { field_mapping: { title: '"second: " & title', description: 'body' } } } } });
    await db.pool.query(`update intake.inbound_webhooks set rate_limit_per_minute = 5, name = 'Alerts (psql)' where inbound_webhook_id = $1`, [hook.id]);
    const { currentVersion, versions: list } = await versions();
    expect(currentVersion).toBe(3);
    expect(list.map((v: any) => [v.version, v.createdBy, v.changes])).toEqual([
      [3, null, ['name', 'rate_limit_per_minute']],
      [2, adminEmail, ['handler.field_mapping.description', 'handler.field_mapping.title']],
      [1, adminEmail, []],
    ]);
    expect(list[1].config).toMatchObject({
      name: 'Alerts', slug: 'alerts', auth: { auth_type: 'hmac_sha256', signature_format: 'hex' },
      handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: '"second: " & title', description: 'body' } },
    });
    expect(Date.parse(list[0].createdAt)).toBeGreaterThan(Date.parse(list[2].createdAt) - 1);
    // a sample is not configuration: no version
    await db.pool.query(`update intake.inbound_webhooks set sample_payload = '{"a": 1}' where inbound_webhook_id = $1`, [hook.id]);
    expect((await versions()).currentVersion).toBe(3);
    // first: newest first, as many as asked
    const first = await ok(admin, `query ($id: UUID!) { inboundWebhook(inboundWebhookId: $id) { versions(first: 1) { version } } }`, { id: hook.id });
    expect(first.inboundWebhook.versions).toEqual([{ version: 3 }]);
  });

  it('never keeps a secret in a version', async () => {
    const rotated = await ok(admin, `mutation ($input: RotateInboundWebhookSecretInput!) { rotateInboundWebhookSecret(input: $input) { secret } }`,
      { input: { inboundWebhookId: hook.id, gracePeriodSeconds: 0 } });
    hook.secret = rotated.rotateInboundWebhookSecret.secret;
    const { rows } = await db.pool.query(`select config::text from intake.inbound_webhook_versions where inbound_webhook_id = $1`, [hook.id]);
    expect(rows.length).toBeGreaterThan(0);
    for (const { config } of rows) {
      expect(config).not.toContain(hook.secret);
      expect(config).not.toMatch(/secret/i);
    }
  });

  it('restores a version as a new one, keeping whether the webhook is active', async () => {
    await ok(admin, `mutation ($id: UUID!) { setInboundWebhookActive(input: {inboundWebhookId: $id, active: false}) { clientMutationId } }`, { id: hook.id });
    const restored = await ok(admin, RESTORE, { input: { inboundWebhookId: hook.id, version: 1 } });
    expect(restored.restoreInboundWebhookVersion.inboundWebhook).toMatchObject({
      handlerConfig: { action: 'createTicket', field_mapping: { title: '"first: " & title' } }, isActive: false,
    });
    const { versions: [newest] } = await versions();
    expect(newest).toMatchObject({ version: restored.restoreInboundWebhookVersion.inboundWebhook.currentVersion, restoredFrom: 1, createdBy: adminEmail });
    expect(newest.changes).toEqual(['handler.field_mapping.description', 'handler.field_mapping.title', 'name', 'rate_limit_per_minute']);
    await ok(admin, `mutation ($id: UUID!) { setInboundWebhookActive(input: {inboundWebhookId: $id, active: true}) { clientMutationId } }`, { id: hook.id });

    expect(await failure(viewer, RESTORE, { input: { inboundWebhookId: hook.id, version: 1 } })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await failure(admin, RESTORE, { input: { inboundWebhookId: hook.id, version: 99 } }))
      .toMatchObject({ code: 'NOT_FOUND', message: `version 99 of inbound webhook ${hook.id} not found` });
  });
});

describe('replay with the configuration a delivery was dispatched with', () => {
  it('records the version each delivery was dispatched with; replays with the current one or that one', async () => {
    const { currentVersion: dispatchedWith } = await versions();
    const original = await send({ title: 'Disk full' });
    expect(original).toMatchObject({ dispatch_status: 'dispatched', config_version: dispatchedWith });
    expect(await ticketTitle(original)).toBe('first: Disk full');
    const logged = await ok(viewer, `query ($id: UUID!) { inboundWebhookDelivery(deliveryId: $id) { configVersion } }`, { id: original.delivery_id });
    expect(logged.inboundWebhookDelivery.configVersion).toBe(dispatchedWith);

    await ok(admin, UPDATE, { input: { inboundWebhookId: hook.id, patch: { handler: { field_mapping: { title: '"third: " & title' } } } } });
    const { currentVersion: now } = await versions();
    expect(now).toBe(dispatchedWith + 1);

    // default: the current configuration, as before
    const current = await ok(admin, REPLAY, { input: { deliveryId: original.delivery_id } });
    expect(current.replayInboundWebhookDelivery.inboundWebhookDelivery.dispatchConfigVersion).toBeNull();
    const currentReplay = await settledDelivery(db.pool, current.replayInboundWebhookDelivery.inboundWebhookDelivery.deliveryId);
    expect(currentReplay.config_version).toBe(now);
    expect(await ticketTitle(currentReplay)).toBe('third: Disk full');

    const pinned = await ok(admin, REPLAY, { input: { deliveryId: original.delivery_id, configuration: 'DISPATCHED' } });
    expect(pinned.replayInboundWebhookDelivery.inboundWebhookDelivery.dispatchConfigVersion).toBe(dispatchedWith);
    const pinnedReplay = await settledDelivery(db.pool, pinned.replayInboundWebhookDelivery.inboundWebhookDelivery.deliveryId);
    expect(pinnedReplay).toMatchObject({ dispatch_status: 'dispatched', config_version: dispatchedWith, is_replay: true });
    expect(await ticketTitle(pinnedReplay)).toBe('first: Disk full');

    // a DBA, in psql: the same argument
    const { rows: [{ id }] } = await db.pool.query(`select intake.replay_delivery($1, 'dispatched') as id`, [original.delivery_id]);
    expect(await ticketTitle(await settledDelivery(db.pool, id))).toBe('first: Disk full');
    // and the next received request still uses the current configuration (the compiled-mapping cache kept it)
    expect(await ticketTitle(await send({ title: 'CPU hot' }))).toBe('third: CPU hot');
  });

  it('refuses to replay a never-dispatched delivery with its dispatched configuration', async () => {
    const { rows: [pending] } = await db.pool.query(
      `insert into intake.inbound_webhook_deliveries (tenant, inbound_webhook_id, request_method, request_path, dispatch_status)
       select tenant, inbound_webhook_id, 'POST', '/x', 'duplicate' from intake.inbound_webhooks where inbound_webhook_id = $1
       returning delivery_id`, [hook.id]);
    expect(await failure(admin, REPLAY, { input: { deliveryId: pending.delivery_id, configuration: 'DISPATCHED' } })).toMatchObject({
      code: 'VALIDATION',
      message: `delivery ${pending.delivery_id} was never dispatched, so it has no configuration to replay with; replay it with the current configuration`,
    });
  });
});

describe('bulk replay with the dispatched configuration', () => {
  it('pins every replay to its original\'s version; an original never dispatched counts as failed', async () => {
    const { rows: originals } = await db.pool.query(
      `select delivery_id, config_version from intake.inbound_webhook_deliveries
        where inbound_webhook_id = $1 and not is_replay and dispatch_status = 'dispatched'`, [hook.id]);
    expect(new Set(originals.map((o) => o.config_version)).size).toBeGreaterThan(1); // dispatched with different versions
    const started = await ok(admin, `mutation ($input: StartBulkReplayInput!) { startBulkReplay(input: $input) { bulkReplay { bulkReplayId total configuration } } }`,
      { input: { inboundWebhookId: hook.id, isReplay: false, configuration: 'DISPATCHED' } });
    const run = started.startBulkReplay.bulkReplay;
    expect(run).toMatchObject({ total: originals.length + 1, configuration: 'DISPATCHED' }); // + the never-dispatched one above
    const done = await waitFor(async () => {
      const { rows } = await db.pool.query(`select status, processed, failed from intake.bulk_replays where bulk_replay_id = $1`, [run.bulkReplayId]);
      return rows[0].status === 'running' ? undefined : rows[0];
    }, 15_000, 'the bulk replay');
    expect(done).toEqual({ status: 'finished', processed: originals.length + 1, failed: 1 });
    const { rows: replays } = await db.pool.query(
      `select r.dispatch_config_version, o.config_version from intake.inbound_webhook_deliveries r
         join intake.inbound_webhook_deliveries o on o.tenant = r.tenant and o.delivery_id = r.replayed_from
        where r.received_at > (select started_at from intake.bulk_replays where bulk_replay_id = $1)`, [run.bulkReplayId]);
    expect(replays).toHaveLength(originals.length);
    for (const replay of replays) expect(replay.dispatch_config_version).toBe(replay.config_version);
  });
});

describe('the replay mutation', () => {
  it('still requires deliveryId; configuration is optional', async () => {
    const { __type } = await ok(admin, `{ __type(name: "ReplayInboundWebhookDeliveryInput") { inputFields { name type { kind name ofType { name } } } } }`);
    const fields = Object.fromEntries(__type.inputFields.map((f: any) => [f.name, f.type]));
    expect(fields.deliveryId).toEqual({ kind: 'NON_NULL', name: null, ofType: { name: 'UUID' } });
    expect(fields.configuration).toEqual({ kind: 'ENUM', name: 'ReplayConfiguration', ofType: null });
  });
});
