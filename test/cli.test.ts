// The `intake` command as users and scripts run it: a child process against the test database.
// stdout is pure JSON; a refused request is a non-zero exit, nothing on stdout and one
// `intake: …` line on stderr.
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listActionsByEntityType } from '../worker/actions/index.ts';
import { runIntake, type CliRun } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { settledDelivery, startTestServer, type TestServer } from './support/server.ts';

const PUBLIC_URL = 'https://intake.example.com';
const alertmanager = JSON.parse(readFileSync(new URL('./fixtures/samples/alertmanager-alert.firing.json', import.meta.url), 'utf8'));

let db: TestDatabase;
let server: TestServer;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

type Run = CliRun;

/** Runs `intake ...args` with the environment a user would have (no LOG_LEVEL: the default). */
function intake(...args: string[]): Promise<Run> {
  return runIntake(db.url, args, { PUBLIC_URL });
}

function stderrLines(run: Run): string[] {
  return run.stderr.split('\n').filter((line) => line !== '');
}

/** A successful command: exit 0 and stdout that is JSON and nothing else. */
async function json(...args: string[]): Promise<any> {
  const run = await intake(...args);
  expect(run.code, run.stderr).toBe(0);
  expect(stderrLines(run), 'stderr').toEqual([]);
  return JSON.parse(run.stdout);
}

/** A refused command: non-zero exit, nothing on stdout, one `intake:` line on stderr. */
async function refused(...args: string[]): Promise<string> {
  return (await refusal(args)).line;
}

async function refusal(args: string[]): Promise<{ line: string; run: Run }> {
  const run = await intake(...args);
  expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(2);
  expect(run.stdout).toBe('');
  const lines = stderrLines(run);
  expect(lines, args.join(' ')).toHaveLength(1);
  expect(lines[0]).toMatch(/^intake: \S/);
  return { line: lines[0]!, run };
}

/** A command refused before it opens the database: the one line is all of stderr. */
async function refusedEarly(...args: string[]): Promise<string> {
  const { line, run } = await refusal(args);
  expect(run.stderr).toBe(line + '\n');
  return line;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const webhookArgs = (slug: string, ...more: string[]) => [
  'webhook', 'create', '--tenant', 'acme', '--name', 'Alertmanager', '--slug', slug, '--auth', 'hmac_sha256',
  '--action', 'createTicket', ...more,
];

describe('intake', () => {
  let webhook: { id: string; url: string; secret: string };
  let deliveryId: string;

  it('tenant create prints the new tenant', async () => {
    const out = await json('tenant', 'create', '--slug', 'acme', '--name', 'Acme MSP');
    expect(out).toEqual({ tenant_id: expect.stringMatching(UUID), slug: 'acme' });
    const { rows } = await db.pool.query(
      `select t.slug, t.name, (select count(*)::int from psa.boards b where b.tenant = t.tenant) as boards
         from psa.tenants t where t.tenant = $1`,
      [out.tenant_id],
    );
    expect(rows).toEqual([{ slug: 'acme', name: 'Acme MSP', boards: 2 }]);
  });

  it('tenant update switches inbound webhooks off, on and back to the default', async () => {
    const flag = async () =>
      (await db.pool.query(`select inbound_webhooks_enabled from psa.tenants where slug = 'acme'`)).rows[0].inbound_webhooks_enabled;
    expect(await json('tenant', 'update', '--slug', 'acme', '--inbound-webhooks', 'off')).toMatchObject({ slug: 'acme', inbound_webhooks_enabled: false });
    expect(await flag()).toBe(false);
    await json('tenant', 'update', '--slug', 'acme', '--inbound-webhooks', 'on');
    expect(await flag()).toBe(true);
    await json('tenant', 'update', '--slug', 'acme', '--inbound-webhooks', 'default');
    expect(await flag()).toBeNull();
    expect(await refused('tenant', 'update', '--slug', 'acme', '--inbound-webhooks', 'maybe')).toBe(
      'intake: --inbound-webhooks must be on, off or default, got "maybe"',
    );
  });

  it('webhook create prints id, url and the secret, which then verifies requests', async () => {
    webhook = await json(...webhookArgs('alerts', '--map', 'title=commonAnnotations.summary', '--map', 'external_id=groupKey'));
    expect(Object.keys(webhook).sort()).toEqual(['id', 'secret', 'url']);
    expect(webhook.id).toMatch(UUID);
    expect(webhook.url).toBe(`${PUBLIC_URL}/api/inbound/acme/alerts`);
    expect(webhook.secret).toEqual(expect.any(String));
    expect(webhook.secret.length).toBeGreaterThanOrEqual(32);

    const { rows } = await db.pool.query(`select * from intake.inbound_webhooks where inbound_webhook_id = $1`, [webhook.id]);
    expect(rows[0]).toMatchObject({
      slug: 'alerts',
      name: 'Alertmanager',
      auth_type: 'hmac_sha256',
      handler_type: 'direct_action',
      handler_config: { action: 'createTicket', field_mapping: { title: 'commonAnnotations.summary', external_id: 'groupKey' } },
      is_active: true,
    });
    const { rows: secrets } = await db.pool.query(`select kind, secret from intake_private.inbound_webhook_secrets where inbound_webhook_id = $1`, [webhook.id]);
    expect(secrets).toHaveLength(1);
    expect(secrets[0].kind).toBe('aes256gcm');
    expect(secrets[0].secret.toString('utf8')).not.toContain(webhook.secret); // stored sealed

    // The printed secret signs requests the receiver (same master key) accepts.
    const body = JSON.stringify(alertmanager);
    const res = await fetch(`${server.url}/api/inbound/acme/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', webhook.secret).update(body).digest('hex') },
      body,
    });
    expect(res.status).toBe(200);
    deliveryId = (await res.json()).delivery_id;
    expect((await settledDelivery(db.pool, deliveryId)).dispatch_status).toBe('dispatched');
  });

  it('deliveries list prints a JSON array, filtered by webhook and status', async () => {
    const all = await json('deliveries', 'list', '--tenant', 'acme');
    expect(Array.isArray(all)).toBe(true);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      delivery_id: deliveryId,
      webhook: 'alerts',
      dispatch_status: 'dispatched',
      is_replay: false,
      replayed_from: null,
      handler_outcome: { action: 'createTicket', created: true },
      config_version: 1,
      dispatch_config_version: null,
    });
    expect(await json('deliveries', 'list', '--tenant', 'acme', '--webhook', 'alerts', '--status', 'dispatched')).toHaveLength(1);
    expect(await json('deliveries', 'list', '--tenant', 'acme', '--status', 'failed')).toEqual([]);
    expect(await json('deliveries', 'list', '--tenant', 'acme', '--webhook', 'other')).toEqual([]);
  });

  it('deliveries replay prints the new delivery, which dispatches against the current config', async () => {
    const out = await json('deliveries', 'replay', deliveryId);
    expect(out).toEqual({ delivery_id: expect.stringMatching(UUID) });
    expect(out.delivery_id).not.toBe(deliveryId);
    const replay = await settledDelivery(db.pool, out.delivery_id);
    expect(replay).toMatchObject({ is_replay: true, replayed_from: deliveryId, dispatch_status: 'dispatched' });
    // Same external id (groupKey): the ticket the original made, not a second one.
    expect(replay.handler_outcome).toMatchObject({ created: false });
    const { rows } = await db.pool.query(`select count(*)::int as n from psa.tickets`);
    expect(rows[0].n).toBe(1);

    const listed = await json('deliveries', 'list', '--tenant', 'acme');
    expect(listed.map((d: { delivery_id: string }) => d.delivery_id).sort()).toEqual([deliveryId, out.delivery_id].sort());
  });

  it('deliveries replay --configuration dispatched pins the replay to the version the original was dispatched with', async () => {
    const { rows: [original] } = await db.pool.query(`select config_version from intake.inbound_webhook_deliveries where delivery_id = $1`, [deliveryId]);
    expect(original.config_version).toBeGreaterThanOrEqual(1);
    const out = await json('deliveries', 'replay', deliveryId, '--configuration', 'dispatched');
    const replay = await settledDelivery(db.pool, out.delivery_id);
    expect(replay).toMatchObject({ dispatch_config_version: original.config_version, config_version: original.config_version, dispatch_status: 'dispatched' });
    expect(await refusedEarly('deliveries', 'replay', deliveryId, '--configuration', 'yesterday'))
      .toBe('intake: --configuration must be current or dispatched, got "yesterday"');
  });

  it('actions list prints the registry grouped by entity type', async () => {
    const out = await json('actions', 'list');
    expect(out).toEqual(JSON.parse(JSON.stringify(listActionsByEntityType())));
    const createTicket = out.ticket.find((a: { name: string }) => a.name === 'createTicket');
    expect(createTicket).toMatchObject({ entityType: 'ticket', displayName: 'Create ticket' });
    expect(createTicket.targetFields.map((f: { name: string }) => f.name)).toEqual([
      'title', 'description', 'priority', 'status', 'board', 'client', 'contact', 'asset', 'external_id',
    ]);
    expect(createTicket.targetFields[0]).toEqual({ name: 'title', type: 'string', required: true, description: 'Ticket title.' });
    expect(createTicket.targetFields.find((f: { name: string }) => f.name === 'priority')).toMatchObject({ type: 'ref', refEntity: 'priority', required: false });
  });

  it('actions list has every v1 action, grouped by its entity type, each with typed fields', async () => {
    const out: Record<string, { name: string; entityType: string; targetFields: { name: string; type: string; required: boolean; description: string }[] }[]> =
      await json('actions', 'list');
    const names = Object.fromEntries(Object.entries(out).map(([entity, actions]) => [entity, actions.map((a) => a.name)]));
    expect(names).toEqual({
      asset: ['upsertAssetByExternalId'],
      client: ['setClientActiveByExternalId', 'upsertClientByExternalId'],
      contact: ['upsertContactByExternalId'],
      invoice: ['markInvoicePaidByExternalId', 'updateInvoiceStatusByExternalId'],
      project_task: ['createProjectTask', 'updateProjectTaskStatusByExternalId'],
      tag: ['addTagToEntityByExternalId'],
      ticket: ['addTicketCommentByExternalId', 'changeTicketStatusByExternalId', 'createTicket', 'updateTicketByExternalId'],
      time_entry: ['createTimeEntry'],
    });
    for (const [entity, actions] of Object.entries(out)) {
      for (const action of actions) {
        expect(action.entityType).toBe(entity);
        expect(action.targetFields.length).toBeGreaterThan(0);
        for (const field of action.targetFields) {
          expect(['string', 'int', 'number', 'boolean', 'enum', 'datetime', 'ref', 'list']).toContain(field.type);
          expect(field.description.length, `${action.name}.${field.name}`).toBeGreaterThan(5);
        }
        if (action.name.endsWith('ByExternalId')) {
          expect(action.targetFields.find((f) => f.name === 'external_id'), action.name).toMatchObject({ required: true });
        }
      }
    }
  });
});

describe('intake refuses', () => {
  it('an unknown command, with the usage after the first line', async () => {
    const run = await intake('frobnicate');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.split('\n');
    expect(lines[0]).toBe('intake: unknown command "frobnicate"');
    expect(lines[1]).toMatch(/^usage: intake/);
  });

  it('bad arguments, before touching the database', async () => {
    expect(await refusedEarly('tenant', 'create', '--name', 'No Slug')).toBe('intake: --slug is required');
    expect(await refusedEarly('tenant', 'create', '--slug', 'x', '--name', 'X', '--bogus')).toMatch(/^intake: Unknown option '--bogus'/);
    expect(await refusedEarly(...webhookArgs('bad-map', '--map', 'title'))).toBe('intake: --map takes field=expression, got "title"');
    expect(await refusedEarly('deliveries', 'list', '--status', 'failed')).toBe('intake: --tenant is required');
    expect(await refusedEarly('deliveries', 'replay', 'not-a-uuid')).toBe('intake: deliveries replay takes a delivery id (uuid)');
    expect(await refusedEarly('deliveries', 'list', '--tenant', 'acme', '--status', 'lost')).toMatch(/^intake: --status must be/);
  });

  it('requests the database refuses or the config does not allow', async () => {
    const { rows: before } = await db.pool.query(`select (select count(*) from psa.tenants)::int as tenants, (select count(*) from intake.inbound_webhooks)::int as webhooks`);

    expect(await refused('tenant', 'create', '--slug', 'acme', '--name', 'Acme again')).toBe('intake: a tenant with slug "acme" already exists');
    const reserved = await refused(...webhookArgs('ninjaone', '--map', 'title=title'));
    expect(reserved).toContain('"ninjaone" is reserved');
    expect(await refused(...webhookArgs('alerts', '--map', 'title=title'))).toBe('intake: tenant "acme" already has a webhook with slug "alerts"');
    expect(await refused(...webhookArgs('bad-field', '--map', 'nosuch=title'))).toContain('createTicket has no field "nosuch"');
    expect(await refused(...webhookArgs('bad-expr', '--map', 'title=title & ('))).toMatch(/^intake: handler\.field_mapping\.title: invalid JSONata/);
    expect(await refused(...webhookArgs('no-title', '--map', 'description=title'))).toContain('needs a mapping for "title"');
    expect(await refused('webhook', 'create', '--tenant', 'nobody', '--name', 'X', '--slug', 'x', '--auth', 'hmac_sha256', '--action', 'createTicket', '--map', 'title=title'))
      .toBe('intake: no tenant with slug "nobody"');
    expect(await refused('deliveries', 'list', '--tenant', 'nobody')).toBe('intake: no tenant with slug "nobody"');
    const missing = randomUUID();
    expect(await refused('deliveries', 'replay', missing)).toBe(`intake: no delivery ${missing}`);

    const { rows: after } = await db.pool.query(`select (select count(*) from psa.tenants)::int as tenants, (select count(*) from intake.inbound_webhooks)::int as webhooks`);
    expect(after).toEqual(before);
  }, 90_000);

  // graphile-worker warns on stderr about a pool without error handlers; the CLI's pools have them.
  it('and prints nothing else on stderr', async () => {
    const run = await intake('tenant', 'create', '--slug', 'acme', '--name', 'Acme again');
    expect(run.stderr).toBe('intake: a tenant with slug "acme" already exists\n');
  });
});
