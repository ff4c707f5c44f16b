// The dry run (issue 12): previewMapping evaluates a draft handler the way the worker would, on
// the captured sample, a past delivery or a pasted body, validates it against the action's
// fields, runs the action in a transaction that is rolled back (so lookups are real), and leaves
// nothing behind: every table's rows, every sequence and graphile_worker's jobs are compared in
// SQL before and after. Tenant isolation is row-level security's: another tenant's webhook and
// deliveries are NOT_FOUND.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkflow } from '../core/workflows.ts';
import { asUser, createTestDatabase, type TestDatabase } from './support/db.ts';
import { failure, graphqlClient, ok, userWithKey, type GraphqlRequest } from './support/graphql.ts';
import { actionWebhook, deliver } from './support/inbound.ts';
import { makeTenant, startTestServer, waitFor, type TestServer } from './support/server.ts';

// Prometheus Alertmanager's webhook body (test/fixtures/samples/README.md says where from).
const alert = JSON.parse(readFileSync(new URL('./fixtures/samples/alertmanager-alert.firing.json', import.meta.url), 'utf8'));

let db: TestDatabase;
let server: TestServer;
let admin: GraphqlRequest;
let viewer: GraphqlRequest;
let otherTenant: GraphqlRequest;
let otherUser: { tenant: string; userId: string };
let alerts: { id: string; secret: string | null; url: string };
let updates: { id: string; secret: string | null; url: string };
let otherHook: { id: string };
/** a delivery of `alerts` that created ticket T-000001 with external id A-1 */
let deliveryId: string;

const PREVIEW = `query ($input: PreviewMappingInput!) {
  previewMapping(input: $input) {
    source deliveryId input outcome summary ok envelope
    fields { name expression value valueType problem severity }
  }
}`;

const ticketDraft = (field_mapping: Record<string, string>) => ({ handler_type: 'direct_action', action: 'createTicket', field_mapping });
const preview = (request: GraphqlRequest, input: Record<string, unknown>) =>
  ok(request, PREVIEW, { input }).then((data) => data.previewMapping);
const field = (result: any, name: string) => result.fields.find((f: any) => f.name === name);

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { env: { INTAKE_JSONATA_TIMEOUT_MS: '300' } });
  await makeTenant(db.pool, 'acme');
  await makeTenant(db.pool, 'globex');
  admin = graphqlClient(server.url, (await userWithKey(db.pool, 'acme', 'admin')).key);
  viewer = graphqlClient(server.url, (await userWithKey(db.pool, 'acme', 'viewer')).key);
  const globexAdmin = await userWithKey(db.pool, 'globex', 'admin');
  otherTenant = graphqlClient(server.url, globexAdmin.key);
  otherUser = { tenant: (await db.pool.query(`select tenant from psa.tenants where slug = 'globex'`)).rows[0].tenant, userId: globexAdmin.userId };
  alerts = await actionWebhook(db.pool, 'acme', 'alerts', 'createTicket', { title: 'title', external_id: 'id' });
  updates = await actionWebhook(db.pool, 'acme', 'alert-updates', 'updateTicketByExternalId', { external_id: 'id', status: 'status' },
    { mapping_namespace: 'alerts' });
  otherHook = await actionWebhook(db.pool, 'globex', 'alerts', 'createTicket', { title: 'title' });
  const delivery = await deliver(db.pool, server.url, 'acme', alerts, { id: 'A-1', title: 'Disk full on web-01' });
  expect(delivery.dispatch_status).toBe('dispatched');
  deliveryId = delivery.delivery_id;
  await db.pool.query(`update intake.inbound_webhooks set sample_payload = $2 where inbound_webhook_id = $1`, [alerts.id, alert]);
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

describe('previewMapping on the captured sample', () => {
  it('answers each field with its value and type, and what the action would do', async () => {
    const result = await preview(admin, {
      inboundWebhookId: alerts.id,
      handler: ticketDraft({
        title: 'commonLabels.alertname & " on " & commonLabels.instance',
        priority: 'commonLabels.severity',
        external_id: 'groupKey',
        description: 'alerts[0].annotations.nothing_here',
      }),
    });
    expect(result.source).toBe('sample');
    expect(result.input).toEqual(alert);
    expect(field(result, 'title')).toEqual({
      name: 'title', expression: 'commonLabels.alertname & " on " & commonLabels.instance',
      value: 'InstanceDown on web-01.example.internal:9100', valueType: 'string', problem: null, severity: null,
    });
    expect(field(result, 'priority')).toMatchObject({ value: 'critical', valueType: 'string', problem: null });
    // a path the body does not have: a warning, not an error (the field is optional)
    expect(field(result, 'description')).toMatchObject({ value: null, valueType: 'missing', severity: 'warning' });
    // unmapped optional fields are listed too, without a problem
    expect(field(result, 'board')).toEqual({ name: 'board', expression: null, value: null, valueType: 'missing', problem: null, severity: null });
    expect(result).toMatchObject({ outcome: 'create', ok: true, envelope: null });
    expect(result.summary).toBe(`creates ticket with external id '${alert.groupKey}'`);
  });

  it('names type and required-field problems per field, and the dispatch failure they would cause', async () => {
    const result = await preview(admin, {
      inboundWebhookId: alerts.id,
      handler: ticketDraft({ title: 'alerts', priority: 'truncatedAlerts', description: '$count(alerts)' }),
    });
    expect(field(result, 'title')).toMatchObject({ valueType: 'array', severity: 'error', problem: 'expected string, got an array' });
    // numbers are fine as text for a reference; the lookup is what fails, and only a real run finds that out
    expect(field(result, 'description')).toMatchObject({ value: 1, valueType: 'integer', problem: null });
    expect(result).toMatchObject({ outcome: 'fail', ok: false });
    expect(result.summary).toBe('fails: field "title": expected string, got an array');

    const missing = await preview(admin, { inboundWebhookId: alerts.id, handler: ticketDraft({ description: 'status', title: '' }) });
    expect(field(missing, 'title')).toMatchObject({ expression: null, severity: 'error', problem: 'is required (string) but the mapping produced no value' });
    expect(missing.ok).toBe(false);
  });

  it('runs the lookups for real: an unknown priority fails as the dispatch would', async () => {
    const result = await preview(admin, { inboundWebhookId: alerts.id, handler: ticketDraft({ title: 'status', priority: 'commonLabels.severity & "-ish"' }) });
    expect(result).toMatchObject({ outcome: 'fail', ok: false });
    expect(result.summary).toMatch(/^fails: field "priority": no priority named or with id "critical-ish" \(known: Critical, High, Low, Medium\)$/);
  });

  it('reports a syntax error and a runaway expression on their own field, evaluated off the main thread', async () => {
    const running = preview(admin, {
      inboundWebhookId: alerts.id,
      handler: ticketDraft({ title: 'status', description: 'alerts[0.labels', external_id: '$match($pad("", 40, "a") & "!", /(a+)+$/)' }),
    });
    // while the catastrophic regex runs (it would never end on its own), the server answers
    let previewDone = false;
    void running.then(() => { previewDone = true; }, () => {});
    await ok(viewer, '{ currentPermissions }');
    expect(previewDone).toBe(false);
    const result = await running;
    // one evaluation, as the dispatch's: the thread stopped in external_id took the others' results with it
    expect(field(result, 'external_id').problem).toMatch(/^JSONata evaluation timeout: it ran longer than 300 ms .*\(D1012\)$/);
    expect(field(result, 'title')).toMatchObject({ value: null, severity: 'error', problem: expect.stringMatching(/^not evaluated: the evaluation stopped: /) });
    expect(field(result, 'description')).toMatchObject({ severity: 'error', problem: expect.stringMatching(/^invalid JSONata at position \d+: /) });
    expect(result.ok).toBe(false);
    // the server stayed responsive, and the next evaluation has a thread
    const after = await preview(admin, { inboundWebhookId: alerts.id, handler: ticketDraft({ title: 'status' }) });
    expect(field(after, 'title')).toMatchObject({ value: 'firing', problem: null });
  });
});

describe('previewMapping on a delivery or a pasted body', () => {
  it('updates by external id: names the ticket it matched, and fails naming one it cannot find', async () => {
    const handler = { field_mapping: { external_id: 'id', status: 'status' } }; // merges into the webhook's handler
    const found = await preview(admin, { inboundWebhookId: updates.id, handler, body: { id: 'A-1', status: 'Resolved' } });
    expect(found).toMatchObject({ source: 'body', deliveryId: null, outcome: 'update', ok: true });
    expect(found.summary).toBe(`updates ticket T-000001 matched by external id 'A-1' (status)`);
    const missing = await preview(admin, { inboundWebhookId: updates.id, handler, body: { id: 'A-9', status: 'Resolved' } });
    expect(missing).toMatchObject({ outcome: 'fail', ok: false });
    expect(missing.summary).toBe(`fails: field "external_id": no ticket with external id "A-9" in integration webhook:alerts`);
  });

  it("evaluates one of the webhook's deliveries; a repeat of its external id would make no new ticket", async () => {
    const result = await preview(viewer, { inboundWebhookId: alerts.id, handler: ticketDraft({ title: 'title', external_id: 'id' }), deliveryId });
    expect(result).toMatchObject({ source: 'delivery', deliveryId, input: { id: 'A-1', title: 'Disk full on web-01' }, outcome: 'skip', ok: true });
    expect(result.summary).toBe(`creates no ticket: external id 'A-1' already maps to ticket T-000001`);
  });

  it('shows a workflow handler its envelope and the workflow it would start', async () => {
    const workflow = await createWorkflow(db.pool, 'acme', {
      name: 'Triage', steps: [{ id: 'open', action: 'createTicket', input: { title: 'input.body.title' } }],
    } as never);
    const result = await preview(admin, { inboundWebhookId: alerts.id, handler: { handler_type: 'workflow', workflow_id: workflow.id }, deliveryId });
    expect(result).toMatchObject({ outcome: 'workflow', ok: true, summary: `starts workflow 'Triage'`, fields: [] });
    expect(result.envelope).toMatchObject({
      source: 'alerts', body: { id: 'A-1', title: 'Disk full on web-01' }, verified: true, is_test: false, is_replay: false, delivery_id: deliveryId,
    });
    const onSample = await preview(admin, { inboundWebhookId: alerts.id, handler: { handler_type: 'workflow', workflow_id: workflow.id } });
    expect(onSample.envelope).toMatchObject({ source: 'alerts', body: alert, delivery_id: null, verified: true });
    expect(await failure(admin, PREVIEW, { input: { inboundWebhookId: alerts.id, handler: { handler_type: 'workflow', workflow_id: workflow.id }, body: { a: 'nul\u0000' } } }))
      .toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/^body: cannot be stored: /) });
  });

  it('refuses bad input with a clear error', async () => {
    expect(await failure(admin, PREVIEW, { input: { inboundWebhookId: alerts.id, handler: ticketDraft({ title: 'x' }), deliveryId, body: {} } }))
      .toMatchObject({ code: 'VALIDATION', message: 'deliveryId, body: give one test input, not both (neither: the captured sample)' });
    expect(await failure(admin, PREVIEW, { input: { inboundWebhookId: updates.id, handler: { field_mapping: { title: 'x' } } } }))
      .toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/^this webhook has no captured sample/) });
    expect(await failure(admin, PREVIEW, { input: { inboundWebhookId: alerts.id, handler: { handler_type: 'direct_action', action: 'nope', field_mapping: {} } } }))
      .toMatchObject({ code: 'VALIDATION', message: 'handler.action: unknown action "nope" (see: intake actions list)' });
    expect(await failure(admin, PREVIEW, { input: { inboundWebhookId: alerts.id, handler: { handler_type: 'direct_action', field_mapping: 'x' } } }))
      .toMatchObject({ code: 'VALIDATION', message: 'handler.field_mapping: Invalid input: expected record, received string' });
  });
});

describe('use a delivery as the sample', () => {
  it('makes its body the sample the dry run uses by default, without a new configuration version', async () => {
    const USE = `mutation ($id: UUID!) { useDeliveryAsSample(input: {deliveryId: $id}) { inboundWebhook { samplePayload currentVersion } } }`;
    const before = (await ok(admin, `query ($id: UUID!) { inboundWebhook(inboundWebhookId: $id) { currentVersion } }`, { id: updates.id })).inboundWebhook;
    const delivery = await deliver(db.pool, server.url, 'acme', updates, { id: 'A-1', status: 'In Progress' });
    expect(await failure(viewer, USE, { id: delivery.delivery_id })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await failure(otherTenant, USE, { id: delivery.delivery_id })).toMatchObject({ code: 'NOT_FOUND' });
    const used = await ok(admin, USE, { id: delivery.delivery_id });
    expect(used.useDeliveryAsSample.inboundWebhook).toEqual({ samplePayload: { id: 'A-1', status: 'In Progress' }, currentVersion: before.currentVersion });
    const result = await preview(admin, { inboundWebhookId: updates.id, handler: { field_mapping: { external_id: 'id', status: 'status' } } });
    expect(result).toMatchObject({ source: 'sample', outcome: 'skip', summary: `no change: ticket T-000001 matched by external id 'A-1' already has these values` });
    await db.pool.query(`update intake.inbound_webhooks set sample_payload = null where inbound_webhook_id = $1`, [updates.id]);
  });
});

describe('tenant isolation', () => {
  it("another tenant can neither preview this tenant's webhook nor use its delivery", async () => {
    expect(await failure(otherTenant, PREVIEW, { input: { inboundWebhookId: alerts.id, handler: ticketDraft({ title: 'title' }), body: {} } }))
      .toMatchObject({ code: 'NOT_FOUND' });
    expect(await failure(otherTenant, PREVIEW, { input: { inboundWebhookId: otherHook.id, handler: ticketDraft({ title: 'title' }), deliveryId } }))
      .toMatchObject({ code: 'NOT_FOUND', message: `delivery ${deliveryId} of inbound webhook ${otherHook.id} not found` });
  });
});

describe('intake.request_mapping_preview (psql)', () => {
  it('stores the same answer as the API, worked out by the worker', async () => {
    const handler = { field_mapping: { external_id: 'id', status: 'status' } };
    const body = { id: 'A-1', status: 'Resolved' };
    const { rows: [{ id }] } = await db.pool.query(`select intake.request_mapping_preview($1, $2, p_body => $3) as id`, [updates.id, handler, body]);
    const row = await waitFor(async () => {
      const { rows } = await db.pool.query(`select status, result, error_message from intake.mapping_previews where preview_id = $1`, [id]);
      return rows[0]?.status !== 'pending' ? rows[0] : undefined;
    }, 10_000, 'the preview');
    const api = await preview(admin, { inboundWebhookId: updates.id, handler, body });
    expect(row).toMatchObject({ status: 'done', error_message: null });
    expect(row.result).toMatchObject({ source: 'body', outcome: 'update', ok: true, summary: api.summary, delivery_id: null });
    expect(row.result.fields.find((f: any) => f.name === 'status')).toEqual({
      name: 'status', expression: 'status', value: 'Resolved', value_type: 'string', problem: null, severity: null,
    });
  });

  it('records why a preview could not run, and refuses another tenant\'s webhook', async () => {
    const { rows: [{ id }] } = await db.pool.query(`select intake.request_mapping_preview($1, '{"field_mapping": {"title": "x"}}', p_delivery_id => $2) as id`,
      [alerts.id, '00000000-0000-4000-8000-000000000000']);
    const row = await waitFor(async () => {
      const { rows } = await db.pool.query(`select status, error_message from intake.mapping_previews where preview_id = $1`, [id]);
      return rows[0]?.status !== 'pending' ? rows[0] : undefined;
    }, 10_000, 'the preview');
    expect(row).toEqual({ status: 'failed', error_message: `delivery 00000000-0000-4000-8000-000000000000 of inbound webhook ${alerts.id} not found` });
    await asUser(db.pool, otherUser.tenant, otherUser.userId, async (client) => {
      await expect(client.query(`select intake.request_mapping_preview($1, '{}')`, [alerts.id])).rejects.toMatchObject({ code: 'P0002' });
    });
  });
});

/** Every table's rows (as text, hashed), every sequence's position, graphile_worker's jobs included. */
async function snapshot(): Promise<Record<string, string>> {
  const { rows: tables } = await db.pool.query<{ name: string }>(
    `select format('%I.%I', n.nspname, c.relname) as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and n.nspname in ('psa', 'intake', 'intake_private', 'intake_global', 'graphile_worker')
      order by 1`,
  );
  const state: Record<string, string> = {};
  for (const { name } of tables) {
    // an API key's last_used_at moves at most once a minute on use: its rows are counted only
    const what = name === 'psa.api_keys' ? `count(*)::text` : `count(*) || ':' || md5(coalesce(string_agg(t::text, '|' order by t::text), ''))`;
    const { rows } = await db.pool.query(`select ${what} as v from ${name} t`);
    state[name] = rows[0].v;
  }
  const { rows: sequences } = await db.pool.query<{ name: string }>(
    `select format('%I.%I', schemaname, sequencename) as name from pg_sequences order by 1`,
  );
  expect(sequences.length).toBeGreaterThan(0); // graphile_worker's job ids at least
  for (const { name } of sequences) {
    const { rows } = await db.pool.query(`select last_value || ':' || is_called as v from ${name}`);
    state[`sequence ${name}`] = rows[0].v;
  }
  return state;
}

describe('nothing is left behind', () => {
  it('leaves every table, sequence and job queue as it was, whatever the preview ran', async () => {
    await preview(admin, { inboundWebhookId: alerts.id, handler: ticketDraft({ title: 'x' }), body: {} }); // the key's last use, before counting
    const before = await snapshot();
    expect(Object.keys(before)).toContain('psa.tenant_counters');
    expect(Object.keys(before)).toContain('graphile_worker._private_jobs');
    const created = await preview(admin, { inboundWebhookId: alerts.id, handler: ticketDraft({ title: 'commonLabels.alertname', external_id: 'groupKey', priority: 'commonLabels.severity' }) });
    expect(created.outcome).toBe('create');
    const updated = await preview(admin, { inboundWebhookId: updates.id, handler: { field_mapping: { external_id: 'id', status: 'status', priority: '"High"' } }, body: { id: 'A-1', status: 'Resolved' } });
    expect(updated.outcome).toBe('update');
    const failed = await preview(admin, { inboundWebhookId: updates.id, handler: { field_mapping: { external_id: 'id', status: 'status' } }, body: { id: 'A-9', status: 'Resolved' } });
    expect(failed.outcome).toBe('fail');
    expect(await snapshot()).toEqual(before);
    // and the next real ticket gets the next number: the preview's was never consumed
    const next = await deliver(db.pool, server.url, 'acme', alerts, { id: 'A-2', title: 'CPU hot on web-02' });
    expect(next.handler_outcome).toMatchObject({ created: true, ticket_number: 'T-000002' });
  });
});
