// The workflow handler end to end (PRD Flow B), through the real receiver and worker: a signed
// request starts a run whose input is exactly the envelope; conditions, failures, deleted and
// inactive workflows; a definition is checked on save (the TS function and the CLI); a transient
// failure mid-run is retried without repeating the step that committed.
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.ts';
import { createWorkflow } from '../core/workflows.ts';
import { validateDefinition } from '../worker/workflows/definition.ts';
import { runIntake, type CliRun } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant, makeWebhook, settledDelivery, startTestServer, waitFor, type TestServer } from './support/server.ts';

const TENANT = 'wf';
const readJson = (url: URL) => JSON.parse(readFileSync(url, 'utf8'));
const alertmanager = readJson(new URL('./fixtures/samples/alertmanager-alert.firing.json', import.meta.url));
const criticalAlert = readJson(new URL('../docs/examples/critical-alert.workflow.json', import.meta.url));
/** The same alert at severity warning. */
const warning = {
  ...alertmanager,
  alerts: alertmanager.alerts.map((a: any) => ({ ...a, labels: { ...a.labels, severity: 'warning' } })),
  commonLabels: { ...alertmanager.commonLabels, severity: 'warning' },
};

let db: TestDatabase;
let server: TestServer;
let tenant: string;
let tmp: string;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  tenant = await makeTenant(db.pool, TENANT);
  tmp = mkdtempSync(path.join(tmpdir(), 'intake-wf-'));
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Hook {
  id: string;
  slug: string;
  secret: string;
}

let workflowCount = 0;
/** Saves a definition (through the same function as the CLI) under a unique name. */
async function saveWorkflow(definition: Record<string, unknown>): Promise<string> {
  const created = await createWorkflow(db.pool, TENANT, { ...definition, name: `${definition.name} ${++workflowCount}` });
  return created.id;
}

async function workflowWebhook(slug: string, workflowId: string): Promise<Hook> {
  const hook = await makeWebhook(db.pool, TENANT, {
    name: slug,
    slug,
    auth: { auth_type: 'hmac_sha256' },
    idempotency: { type: 'header', value: 'x-idempotency-key' },
    rate_limit_per_minute: 0,
    handler: { handler_type: 'workflow', workflow_id: workflowId },
  });
  return { id: hook.id, slug, secret: hook.secret! };
}

/**
 * POSTs a signed body with exactly `extra` plus host, connection, content-type, content-length
 * and x-signature as its headers (node's http client adds none of its own when these are set),
 * so a test knows every header the receiver saw. Returns the delivery id and the headers sent.
 */
async function send(hook: Hook, payload: unknown, extra: Record<string, string> = {}) {
  const body = JSON.stringify(payload);
  const url = new URL(`${server.url}/api/inbound/${TENANT}/${hook.slug}`);
  const headers: Record<string, string> = {
    host: url.host,
    connection: 'close',
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-signature': createHmac('sha256', hook.secret).update(body).digest('hex'),
    'x-idempotency-key': randomUUID(),
    ...extra,
  };
  const answer = await new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return { deliveryId: answer.body.delivery_id as string, headers };
}

async function runRow(runId: string) {
  const { rows } = await db.pool.query(`select * from intake.workflow_runs where run_id = $1`, [runId]);
  return rows[0];
}

/** Waits until the run has finished (succeeded or failed) and returns its row. */
async function settledRun(runId: string, timeoutMs = 15_000) {
  return waitFor(async () => {
    const run = await runRow(runId);
    return run && (run.status === 'succeeded' || run.status === 'failed') ? run : undefined;
  }, timeoutMs, `run ${runId} to finish`);
}

/** Sends the payload; the delivery must be dispatched with a run, which is returned once finished. */
async function runFor(hook: Hook, payload: unknown, extra: Record<string, string> = {}) {
  const sent = await send(hook, payload, extra);
  const delivery = await settledDelivery(db.pool, sent.deliveryId);
  expect(delivery.dispatch_status, delivery.error_message).toBe('dispatched');
  expect(delivery.handler_outcome).toEqual({ workflow_id: expect.any(String), workflow_run_id: expect.any(String) });
  return { sent, delivery, run: await settledRun(delivery.handler_outcome.workflow_run_id) };
}

async function ticketCount(): Promise<number> {
  const { rows } = await db.pool.query(`select count(*)::int as n from psa.tickets where tenant = $1`, [tenant]);
  return rows[0].n;
}

describe('a signed request starts a run', () => {
  it('whose input is exactly the envelope, with the filtered request headers', async () => {
    const workflowId = await saveWorkflow({
      name: 'Envelope',
      steps: [{ id: 'remember', set: { severity: 'input.body.commonLabels.severity', source: 'input.source' } }],
    });
    const hook = await workflowWebhook('envelope', workflowId);
    const credentials = {
      authorization: 'Bearer not-for-workflows',
      cookie: 'session=secret',
      'x-hub-signature-256': 'sha256=deadbeef',
    };
    const { sent, delivery, run } = await runFor(hook, alertmanager, {
      'user-agent': 'Alertmanager/0.27.0',
      'x-request-id': 'req-42',
      ...credentials,
    });

    // What the receiver saw, less the credentials: authorization, cookies and signatures.
    const expectedHeaders = Object.fromEntries(
      Object.entries(sent.headers).filter(([name]) => !['x-signature', ...Object.keys(credentials)].includes(name)),
    );
    expect(Object.keys(expectedHeaders).sort()).toEqual(
      ['connection', 'content-length', 'content-type', 'host', 'user-agent', 'x-idempotency-key', 'x-request-id'],
    );
    expect(run.input).toEqual({
      source: 'envelope',
      body: alertmanager,
      headers: expectedHeaders,
      verified: true,
      is_test: false,
      is_replay: false,
      delivery_id: delivery.delivery_id,
      idempotency_key: sent.headers['x-idempotency-key'],
      received_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
    });
    // received_at is the delivery's, to the microsecond.
    const { rows } = await db.pool.query(
      `select (r.input->>'received_at')::timestamptz = d.received_at as same
         from intake.workflow_runs r join intake.inbound_webhook_deliveries d on d.tenant = r.tenant and d.delivery_id = r.delivery_id
        where r.run_id = $1`,
      [run.run_id],
    );
    expect(rows).toEqual([{ same: true }]);

    expect(delivery.handler_outcome).toEqual({ workflow_id: workflowId, workflow_run_id: run.run_id });
    expect(run).toMatchObject({
      tenant,
      workflow_id: workflowId,
      workflow_version: 1,
      delivery_id: delivery.delivery_id,
      status: 'succeeded',
      variables: { severity: 'critical', source: 'envelope' },
      error_message: null,
      failed_step: null,
      retry_count: 0,
    });
    expect(run.started_at).toBeInstanceOf(Date);
    expect(run.finished_at).toBeInstanceOf(Date);
    expect(run.step_results).toEqual({
      remember: { status: 'succeeded', output: { severity: 'critical', source: 'envelope' }, finished_at: expect.any(String) },
    });
  });

  it('says so when it is a test delivery or a replay', async () => {
    const workflowId = await saveWorkflow({ name: 'Flags', steps: [{ id: 'noop', set: { seen: 'input.is_test' } }] });
    const hook = await workflowWebhook('flags', workflowId);
    const runOf = async (deliveryId: string) => {
      const delivery = await settledDelivery(db.pool, deliveryId);
      expect(delivery.dispatch_status, delivery.error_message).toBe('dispatched');
      return settledRun(delivery.handler_outcome.workflow_run_id);
    };
    const flags = (run: { input: Record<string, unknown> }) =>
      ({ verified: run.input.verified, is_test: run.input.is_test, is_replay: run.input.is_replay });

    const { rows: test } = await db.pool.query(`select (intake.send_test_delivery($1, '{"n": 1}'::jsonb)).delivery_id as id`, [hook.id]);
    const testRun = await runOf(test[0].id);
    expect(flags(testRun)).toEqual({ verified: false, is_test: true, is_replay: false });

    const { deliveryId } = await send(hook, { n: 2 });
    const original = await runOf(deliveryId);
    expect(flags(original)).toEqual({ verified: true, is_test: false, is_replay: false });
    const { rows: replay } = await db.pool.query(`select intake.replay_delivery($1) as id`, [deliveryId]);
    expect(flags(await runOf(replay[0].id))).toEqual({ verified: true, is_test: false, is_replay: true });
  });
});

describe('the example workflow (docs/examples/critical-alert.workflow.json)', () => {
  let hook: Hook;
  beforeAll(async () => {
    expect(validateDefinition(criticalAlert)).toMatchObject({ ok: true, errors: [] });
    hook = await workflowWebhook('critical-alert', await saveWorkflow(criticalAlert));
  });

  it('creates a ticket, and comments on it, for a critical alert', async () => {
    const before = await ticketCount();
    const { delivery, run } = await runFor(hook, alertmanager);
    expect(run.status, run.error_message).toBe('succeeded');
    expect(await ticketCount()).toBe(before + 1);

    const { ticket, note } = run.step_results;
    expect(ticket).toEqual({
      status: 'succeeded',
      output: { ticket_id: expect.any(String), ticket_number: expect.stringMatching(/^T-\d{6}$/), created: true },
      finished_at: expect.any(String),
    });
    expect(note).toMatchObject({ status: 'succeeded', output: { ticket_id: ticket.output.ticket_id, created: true } });

    const { rows } = await db.pool.query(
      `select t.title, t.description, p.priority_name, c.body, c.author_label
         from psa.tickets t
         join psa.priorities p on p.tenant = t.tenant and p.priority_id = t.priority_id
         join psa.ticket_comments c on c.tenant = t.tenant and c.ticket_id = t.ticket_id
        where t.ticket_id = $1`,
      [ticket.output.ticket_id],
    );
    expect(rows).toEqual([{
      title: alertmanager.commonAnnotations.summary,
      description: alertmanager.commonAnnotations.description,
      priority_name: 'Critical',
      body: `Opened by critical-alert (delivery ${delivery.delivery_id}) as ${ticket.output.ticket_number}`,
      author_label: 'Alertmanager',
    }]);
    // External ids are recorded in the webhook's namespace, as a direct action would.
    const { rows: mappings } = await db.pool.query(
      `select integration_type, external_entity_id from psa.tenant_external_entity_mappings where alga_entity_id = $1`,
      [ticket.output.ticket_id],
    );
    expect(mappings).toEqual([{ integration_type: 'webhook:critical-alert', external_entity_id: alertmanager.groupKey }]);
  });

  it('creates nothing for a warning: both steps are skipped and the run succeeds', async () => {
    const before = await ticketCount();
    const { run } = await runFor(hook, warning);
    expect(run).toMatchObject({ status: 'succeeded', error_message: null, failed_step: null });
    expect(run.step_results).toEqual({
      ticket: { status: 'skipped', finished_at: expect.any(String) },
      note: { status: 'skipped', finished_at: expect.any(String) },
    });
    expect(await ticketCount()).toBe(before);
  });
});

describe('variables and end', () => {
  it('a step without an action sets a variable and ends the run early; an edit applies to new runs', async () => {
    const first = {
      name: 'Gate',
      steps: [
        { id: 'classify', set: { severity: '$uppercase(input.body.commonLabels.severity)' }, end: 'vars.severity != "CRITICAL"' },
        { id: 'ticket', action: 'createTicket', input: { title: '"[" & vars.severity & "] " & input.body.commonAnnotations.summary' }, set: { number: 'steps.ticket.ticket_number' } },
      ],
    };
    const workflowId = await saveWorkflow(first);
    const hook = await workflowWebhook('gate', workflowId);
    const before = await ticketCount();

    const { run: stopped } = await runFor(hook, warning);
    expect(stopped).toMatchObject({ status: 'succeeded', variables: { severity: 'WARNING' } });
    expect(stopped.step_results).toEqual({ classify: { status: 'succeeded', output: { severity: 'WARNING' }, finished_at: expect.any(String) } });
    expect(await ticketCount()).toBe(before);

    const { run: went } = await runFor(hook, alertmanager);
    expect(went.status, went.error_message).toBe('succeeded');
    const number = went.step_results.ticket.output.ticket_number;
    expect(went.variables).toEqual({ severity: 'CRITICAL', number });
    const { rows } = await db.pool.query(`select title from psa.tickets where ticket_number = $1 and tenant = $2`, [number, tenant]);
    expect(rows).toEqual([{ title: `[CRITICAL] ${alertmanager.commonAnnotations.summary}` }]);

    // Editing the definition bumps the version; the next run records (and runs) the new one.
    const edited = { steps: [{ id: 'classify', set: { severity: 'input.body.commonLabels.severity' }, end: true }] };
    const { rows: versions } = await db.pool.query(
      `update intake.workflows set definition = $2 where workflow_id = $1 returning version`, [workflowId, JSON.stringify(edited)]);
    expect(versions).toEqual([{ version: 2 }]);
    const { run: third } = await runFor(hook, alertmanager);
    expect(third).toMatchObject({ status: 'succeeded', workflow_version: 2, definition: edited, variables: { severity: 'critical' } });
    expect(went).toMatchObject({ workflow_version: 1, definition: { steps: first.steps } });
    expect(await ticketCount()).toBe(before + 1);
  });
});

describe('integers past 2^53 in the body', () => {
  it('reach the steps digit for digit (the envelope is not rounded by JSON.parse)', async () => {
    const workflowId = await saveWorkflow({
      name: 'Big ids',
      steps: [{ id: 'ticket', action: 'createTicket', input: { title: '"alert " & $string(input.body.alert.id)' }, set: { id: 'input.body.alert.id' } }],
    });
    const hook = await workflowWebhook('big-ids', workflowId);
    // JSON.rawJSON puts the digits on the wire as they are: 9007199254740993 is not a double.
    const { run } = await runFor(hook, { alert: { id: (JSON as unknown as { rawJSON(t: string): unknown }).rawJSON('9007199254740993') } });
    expect(run.status, run.error_message).toBe('succeeded');
    expect(run.variables).toEqual({ id: '9007199254740993' });
    const { rows } = await db.pool.query(`select title from psa.tickets where ticket_number = $1 and tenant = $2`,
      [run.step_results.ticket.output.ticket_number, tenant]);
    expect(rows).toEqual([{ title: 'alert 9007199254740993' }]);
  });
});

describe('a failing step', () => {
  it('fails the run with the step named, and leaves the delivery dispatched', async () => {
    const workflowId = await saveWorkflow({
      name: 'Bad priority',
      steps: [
        { id: 'classify', set: { severity: 'input.body.commonLabels.severity' } },
        { id: 'ticket', action: 'createTicket', input: { title: 'input.body.commonAnnotations.summary', priority: '"Apocalyptic"' } },
        { id: 'after', set: { reached: 'true' } },
      ],
    });
    const hook = await workflowWebhook('bad-priority', workflowId);
    const before = await ticketCount();
    const { delivery, run } = await runFor(hook, alertmanager);
    expect(delivery).toMatchObject({ dispatch_status: 'dispatched', error_message: null });
    expect(run).toMatchObject({ status: 'failed', failed_step: 'ticket', retry_count: 0, variables: { severity: 'critical' } });
    expect(run.error_message).toMatch(/^step "ticket": createTicket: field "priority": /);
    expect(run.error_message).toContain('"Apocalyptic"');
    expect(run.step_results).toEqual({
      classify: { status: 'succeeded', output: { severity: 'critical' }, finished_at: expect.any(String) },
      ticket: { status: 'failed', error: run.error_message, finished_at: expect.any(String) },
    });
    expect(await ticketCount()).toBe(before);
    // Not retried: its job is gone.
    const { rows } = await db.pool.query(`select count(*)::int as n from graphile_worker.jobs where key = $1`, [`run:${run.run_id}`]);
    expect(rows[0].n).toBe(0);
    // The delivery still reads as dispatched, the run as failed.
    expect((await settledDelivery(db.pool, delivery.delivery_id)).dispatch_status).toBe('dispatched');
  });

  it('a JSONata error in an input fails the run naming the step and the field', async () => {
    const workflowId = await saveWorkflow({
      name: 'Bad expression',
      steps: [{ id: 'ticket', action: 'createTicket', input: { title: '$error("no title today")' } }],
    });
    const { run } = await runFor(await workflowWebhook('bad-expression', workflowId), alertmanager);
    expect(run).toMatchObject({ status: 'failed', failed_step: 'ticket' });
    expect(run.error_message).toMatch(/^step "ticket": input\.title: JSONata evaluation failed.*no title today/);
  });
});

describe('a definition is checked on save', () => {
  const unknownAction = {
    name: 'Page the on-call',
    steps: [
      { id: 'ticket', action: 'createTicket', input: { title: 'input.body.title' } },
      { id: 'page', action: 'pageOnCall', input: { who: 'input.body.team' } },
    ],
  };

  it('refuses an unknown action (the TS function)', async () => {
    expect(validateDefinition(unknownAction)).toEqual({
      ok: false,
      definition: null,
      errors: ['step "page": unknown action "pageOnCall" (see: intake actions list)'],
    });
    await expect(createWorkflow(db.pool, TENANT, unknownAction)).rejects.toSatisfy(
      (error) => error instanceof UserError && error.code === 'validation' && error.message.includes('step "page": unknown action "pageOnCall"'),
    );
    const { rows } = await db.pool.query(`select count(*)::int as n from intake.workflows where name = $1`, [unknownAction.name]);
    expect(rows[0].n).toBe(0);
  });

  it('names the step in every other message', () => {
    const errors = (steps: unknown[]) => validateDefinition({ name: 'x', steps }).errors;
    expect(errors([{ id: 't', action: 'createTicket', input: { title: 'input.body.(' } }])).toEqual([
      expect.stringMatching(/^step "t": input\.title: invalid JSONata at position \d+: /),
    ]);
    expect(errors([{ id: 't', when: 'input.body.severity = ', set: { a: '1' } }])).toEqual([
      expect.stringMatching(/^step "t": when: invalid JSONata at position \d+/),
    ]);
    expect(errors([{ id: 'a', set: { x: '1' } }, { id: 'a', end: true }])).toEqual(['step "a": duplicate step id (steps[0] and steps[1])']);
    expect(errors([{ id: 't', action: 'createTicket', input: { title: '"x"', colour: '"red"' } }])).toEqual([
      expect.stringMatching(/^step "t": input\.colour: createTicket has no field "colour" \(fields: title, /),
    ]);
    expect(errors([{ id: 't', action: 'createTicket', input: { priority: '"High"' } }])).toEqual(['step "t": input: createTicket needs "title"']);
    expect(errors([{ id: 't', input: { title: '"x"' } }])).toEqual([
      'step "t": input: a step without "action" takes no input',
      'step "t": needs an "action", or "set" or "end"',
    ]);
    expect(errors([{ id: 't', action: 'createTicket', input: { title: '"x"' }, wen: 'true' }])).toEqual([
      expect.stringMatching(/^step "t": .*"wen"/),
    ]);
    expect(errors([{ id: 'bad-id', end: true }])).toEqual([expect.stringMatching(/^step "bad-id": id: a step id must be letters/)]);
    expect(errors([{ action: 'createTicket' }])).toEqual([expect.stringMatching(/^steps\[0\]: id: /)]);
    expect(errors([])).toEqual(['steps: a workflow needs at least one step']);
  });

  it('through the CLI: refused with one line naming the step; accepted prints {id, name, version}', async () => {
    const bad = path.join(tmp, 'unknown-action.json');
    writeFileSync(bad, JSON.stringify(unknownAction));
    const refused = await intake('workflow', 'create', '--tenant', TENANT, '--file', bad);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(`intake: ${bad}: step "page": unknown action "pageOnCall" (see: intake actions list)\n`);

    const good = path.join(tmp, 'cli.json');
    writeFileSync(good, JSON.stringify({ ...criticalAlert, name: 'From the CLI' }));
    const created = await intake('workflow', 'create', '--tenant', TENANT, '--file', good);
    expect(created.code, created.stderr).toBe(0);
    const out = JSON.parse(created.stdout);
    expect(out).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'From the CLI', version: 1 });
    const { rows } = await db.pool.query(`select name, description, definition, is_active from intake.workflows where workflow_id = $1`, [out.id]);
    expect(rows).toEqual([{ name: 'From the CLI', description: criticalAlert.description, definition: { steps: criticalAlert.steps }, is_active: true }]);

    const again = await intake('workflow', 'create', '--tenant', TENANT, '--file', good);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`intake: tenant "${TENANT}" already has a workflow named "From the CLI"\n`);
  });

  it('workflow runs lists runs as JSON, filtered by workflow and status', async () => {
    const workflowId = await saveWorkflow({ name: 'Listed', steps: [{ id: 'only', set: { n: '1' } }] });
    const name = `Listed ${workflowCount}`;
    const { run } = await runFor(await workflowWebhook('listed', workflowId), alertmanager);
    const listed = await intake('workflow', 'runs', '--tenant', TENANT, '--workflow', workflowId);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ id: run.run_id, workflow_id: workflowId, workflow: name, status: 'succeeded', step_results: run.step_results }),
    ]);
    const failed = JSON.parse((await intake('workflow', 'runs', '--tenant', TENANT, '--status', 'failed')).stdout);
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed.every((r: any) => r.status === 'failed')).toBe(true);
    const wrong = await intake('workflow', 'runs', '--tenant', TENANT, '--status', 'done');
    expect([wrong.code, wrong.stderr]).toEqual([2, 'intake: --status must be pending, running, succeeded or failed, got "done"\n']);
  });
});

describe('a webhook for a workflow', () => {
  it('cannot be created for an unknown workflow', async () => {
    const missing = randomUUID();
    await expect(workflowWebhook('nowhere', missing)).rejects.toSatisfy(
      (error) => error instanceof UserError && error.code === 'validation' && error.message.startsWith(`handler.workflow_id: tenant "${TENANT}" has no workflow ${missing}`),
    );
  });

  it('fails new deliveries once its workflow is inactive or deleted; earlier runs are kept', async () => {
    const workflowId = await saveWorkflow({ name: 'Short-lived', steps: [{ id: 'only', set: { n: '1' } }] });
    const name = `Short-lived ${workflowCount}`;
    const hook = await workflowWebhook('short-lived', workflowId);
    const { run: earlier } = await runFor(hook, alertmanager);
    expect(earlier.status).toBe('succeeded');
    const runs = async () => (await db.pool.query(`select count(*)::int as n from intake.workflow_runs where tenant = $1`, [tenant])).rows[0].n;

    await db.pool.query(`update intake.workflows set is_active = false where workflow_id = $1`, [workflowId]);
    let count = await runs();
    const inactive = await settledDelivery(db.pool, (await send(hook, alertmanager)).deliveryId);
    expect(inactive).toMatchObject({ dispatch_status: 'failed', error_message: `workflow "${name}" is inactive`, retry_count: 0 });
    expect(await runs()).toBe(count);

    await db.pool.query(`delete from intake.workflows where workflow_id = $1`, [workflowId]);
    const deleted = await settledDelivery(db.pool, (await send(hook, alertmanager)).deliveryId);
    expect(deleted).toMatchObject({ dispatch_status: 'failed', error_message: `workflow ${workflowId} was deleted`, retry_count: 0 });
    expect(await runs()).toBe(count);
    // The earlier run survives its workflow.
    expect(await runRow(earlier.run_id)).toMatchObject({ workflow_id: null, workflow_version: 1, status: 'succeeded' });
  });
});

describe('a transient failure mid-run', () => {
  it('is retried from the failed step; the step that committed is not repeated', async () => {
    const hook = await workflowWebhook('flaky', await saveWorkflow(criticalAlert));
    const before = await ticketCount();
    // Step "note" inserts into psa.ticket_comments: without the privilege it fails with 42501,
    // which no data can explain, so it is treated as transient and retried.
    await db.pool.query(`revoke insert on psa.ticket_comments from intake_app`);
    let restored = false;
    try {
      const { deliveryId } = await send(hook, alertmanager);
      const delivery = await settledDelivery(db.pool, deliveryId);
      expect(delivery.dispatch_status).toBe('dispatched');
      const runId = delivery.handler_outcome.workflow_run_id;

      const retrying = await waitFor(async () => {
        const run = await runRow(runId);
        return run?.retry_count === 1 ? run : undefined;
      }, 15_000, 'the first attempt to fail');
      expect(retrying.status).toBe('running');
      expect(retrying.error_message).toMatch(/^attempt 1 of 8 failed, will retry: step "note": permission denied for table ticket_comments/);
      expect(Object.keys(retrying.step_results)).toEqual(['ticket']);
      const committed = retrying.step_results.ticket;
      expect(committed.output.created).toBe(true);
      expect(await ticketCount()).toBe(before + 1);

      await db.pool.query(`grant insert on psa.ticket_comments to intake_app`);
      restored = true;
      const run = await settledRun(runId, 20_000);
      expect(run).toMatchObject({ status: 'succeeded', retry_count: 1, error_message: null, failed_step: null });
      // Step "ticket" is exactly as it was committed in the first attempt; no second ticket.
      expect(run.step_results.ticket).toEqual(committed);
      expect(run.step_results.note).toMatchObject({ status: 'succeeded', output: { ticket_id: committed.output.ticket_id, created: true } });
      expect(await ticketCount()).toBe(before + 1);
      const { rows } = await db.pool.query(`select count(*)::int as n from psa.ticket_comments where ticket_id = $1`, [committed.output.ticket_id]);
      expect(rows[0].n).toBe(1);
    } finally {
      if (!restored) await db.pool.query(`grant insert on psa.ticket_comments to intake_app`);
    }
  });
});

type Run = CliRun;

/** Runs `intake ...args` as a user would, against the test database. */
function intake(...args: string[]): Promise<Run> {
  return runIntake(db.url, args, { LOG_LEVEL: 'error' });
}
