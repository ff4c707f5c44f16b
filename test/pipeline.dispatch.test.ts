// Dispatch end to end: mapping and lookup failures are recorded with their reason and not
// retried; mapped values land in the ticket; a runaway mapping fails in bounded time; a replay
// runs against the current config; one webhook's deliveries take effect in arrival order.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant, makeWebhook, settledDelivery, startTestServer, waitFor, type TestServer } from './support/server.ts';

const TENANT = 'dispatch';
const JSONATA_TIMEOUT_MS = 200;
const sample = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/samples/${name}.json`, import.meta.url), 'utf8')) as Record<string, any>;
const alertmanager = sample('alertmanager-alert.firing');
const grafana = sample('grafana-alerting.firing');

let db: TestDatabase;
let server: TestServer;
let tenant: string;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { env: { INTAKE_JSONATA_TIMEOUT_MS: String(JSONATA_TIMEOUT_MS) } });
  tenant = await makeTenant(db.pool, TENANT);
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

interface Hook {
  id: string;
  slug: string;
  secret: string;
}

async function ticketWebhook(slug: string, fieldMapping: Record<string, string>): Promise<Hook> {
  const hook = await makeWebhook(db.pool, TENANT, {
    name: slug,
    slug,
    auth: { auth_type: 'hmac_sha256' },
    handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: fieldMapping },
  });
  return { id: hook.id, slug, secret: hook.secret! };
}

async function send(hook: Hook, payload: unknown): Promise<string> {
  return sendText(hook, JSON.stringify(payload));
}

/** The body exactly as given (JSON.stringify would round integers past 2^53). */
async function sendText(hook: Hook, body: string): Promise<string> {
  const res = await fetch(`${server.url}/api/inbound/${TENANT}/${hook.slug}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', hook.secret).update(body).digest('hex') },
    body,
  });
  const answer = await res.json();
  expect(res.status, JSON.stringify(answer)).toBe(200);
  return answer.delivery_id;
}

async function ticketsOf(hook: Hook) {
  const { rows } = await db.pool.query(
    `select t.*, p.priority_name, s.name as status_name, b.board_name
       from psa.tickets t
       join psa.priorities p on p.tenant = t.tenant and p.priority_id = t.priority_id
       join psa.statuses s on s.tenant = t.tenant and s.status_id = t.status_id
       join psa.boards b on b.tenant = t.tenant and b.board_id = t.board_id
      where t.ticket_id in (select (d.handler_outcome->>'ticket_id')::uuid from intake.inbound_webhook_deliveries d
                             where d.inbound_webhook_id = $1 and d.handler_outcome ? 'ticket_id')
      order by t.ticket_number`,
    [hook.id],
  );
  return rows;
}

/** The delivery's own dispatch_delivery job (a retry's), if it has one. */
async function jobFor(deliveryId: string) {
  const { rows } = await db.pool.query(`select * from graphile_worker.jobs where key = $1`, [`dispatch:${deliveryId}`]);
  return rows[0];
}

/** Sends the payload and returns the settled delivery, which must have failed permanently. */
async function failedDelivery(hook: Hook, payload: unknown) {
  const delivery = await settledDelivery(db.pool, await send(hook, payload), 15_000);
  expect(delivery.dispatch_status).toBe('failed');
  expect(delivery.retry_count).toBe(0);
  expect(delivery.handler_outcome).toEqual({ error: delivery.error_message });
  // Not retried: it got no job of its own, and no dispatch job is left waiting.
  expect(await jobFor(delivery.delivery_id)).toBeUndefined();
  await waitFor(async () => {
    const { rows } = await db.pool.query(`select 1 from graphile_worker.jobs where task_identifier in ('dispatch_webhook', 'dispatch_delivery')`);
    return rows.length === 0 ? true : undefined;
  }, 5000, 'the dispatch jobs to complete');
  expect(await ticketsOf(hook)).toEqual([]);
  return delivery;
}

describe('mapping and lookup failures are recorded, not retried', () => {
  it('a required field mapped to a missing path', async () => {
    const hook = await ticketWebhook('missing-title', { title: 'alerts[0].labels.no_such_label' });
    const { error_message } = await failedDelivery(hook, alertmanager);
    expect(error_message).toContain('"title"');
    expect(error_message).toContain('required');
  });

  it('a string field mapped to an object', async () => {
    const hook = await ticketWebhook('object-title', { title: 'commonLabels' });
    const { error_message } = await failedDelivery(hook, alertmanager);
    expect(error_message).toContain('"title"');
    expect(error_message).toContain('expected string');
    expect(error_message).toContain('an object');
  });

  it('a client reference that is neither an id nor a known external id', async () => {
    const hook = await ticketWebhook('unknown-client', { title: 'commonAnnotations.summary', client: 'commonLabels.instance' });
    const { error_message } = await failedDelivery(hook, alertmanager);
    expect(error_message).toContain('"client"');
    expect(error_message).toContain(JSON.stringify(alertmanager.commonLabels.instance));
    expect(error_message).toContain('webhook:unknown-client');
  });

  it('an unknown priority name lists the known priorities', async () => {
    const hook = await ticketWebhook('unknown-priority', { title: 'title', priority: 'commonLabels.severity' });
    const body = { ...alertmanager, title: 'Disk full', commonLabels: { ...alertmanager.commonLabels, severity: 'apocalyptic' } };
    const { error_message } = await failedDelivery(hook, body);
    expect(error_message).toContain('"priority"');
    expect(error_message).toContain('"apocalyptic"');
    const { rows } = await db.pool.query(`select priority_name from psa.priorities where tenant = $1`, [tenant]);
    expect(rows.length).toBeGreaterThan(1);
    for (const { priority_name } of rows) expect(error_message).toContain(priority_name);
  });

  it('a runaway expression fails the delivery in bounded time', async () => {
    // Takes seconds unbounded; the 200 ms limit must cut it off.
    const hook = await ticketWebhook('runaway', { title: '$string($count([1..900000].($string($) & "x")))' });
    const started = Date.now();
    const delivery = await failedDelivery(hook, alertmanager);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(delivery.error_message).toContain('"title"');
    expect(delivery.error_message).toMatch(/timeout/i);
    expect(delivery.error_message).toContain('D1012');
  });

  it('runaway recursion fails the delivery with a stack message', async () => {
    const hook = await ticketWebhook('recursion', { title: '($f := function($n) { $n = 0 ? "done" : $f($n - 1) & "" }; $f(100000))' });
    const delivery = await failedDelivery(hook, alertmanager);
    expect(delivery.error_message).toContain('"title"');
    expect(delivery.error_message).toMatch(/stack/i);
    expect(delivery.error_message).toContain('D1011');
  });
});

describe('mapped values', () => {
  it('land in the ticket, and the external id is recorded once', async () => {
    const hook = await ticketWebhook('alertmanager', {
      title: 'commonAnnotations.summary',
      description: 'commonAnnotations.description',
      priority: 'commonLabels.severity',
      external_id: 'groupKey',
    });
    const first = await settledDelivery(db.pool, await send(hook, alertmanager));
    expect(first.dispatch_status).toBe('dispatched');
    expect(first.error_message).toBeNull();

    const tickets = await ticketsOf(hook);
    expect(tickets).toHaveLength(1);
    const ticket = tickets[0]!;
    expect(ticket).toMatchObject({
      tenant,
      title: alertmanager.commonAnnotations.summary,
      description: alertmanager.commonAnnotations.description,
      priority_name: 'Critical', // "critical" resolved by name, case-insensitively
      status_name: 'New', // the tenant's defaults
      board_name: 'General',
      source: 'inbound_webhook',
    });
    expect(ticket.ticket_number).toMatch(/^T-\d{6}$/);
    expect(first.handler_outcome).toEqual({
      action: 'createTicket', ticket_id: ticket.ticket_id, ticket_number: ticket.ticket_number, created: true,
    });

    const { rows: mappings } = await db.pool.query(`select * from psa.tenant_external_entity_mappings where tenant = $1`, [tenant]);
    expect(mappings).toHaveLength(1);
    expect(mappings[0]).toMatchObject({
      integration_type: 'webhook:alertmanager',
      alga_entity_type: 'ticket',
      alga_entity_id: ticket.ticket_id,
      external_entity_id: alertmanager.groupKey,
      external_realm_id: null,
    });
    expect(mappings[0].metadata).toMatchObject({ inbound_webhook_id: hook.id, delivery_id: first.delivery_id });

    // The alert fires again (no idempotency on this webhook): the same external id finds the
    // ticket already made.
    const second = await settledDelivery(db.pool, await send(hook, alertmanager));
    expect(second.dispatch_status).toBe('dispatched');
    expect(second.handler_outcome).toEqual({
      action: 'createTicket', ticket_id: ticket.ticket_id, ticket_number: ticket.ticket_number, created: false,
    });
    expect(await ticketsOf(hook)).toHaveLength(1);
    const { rows: count } = await db.pool.query(`select count(*)::int as n from psa.tenant_external_entity_mappings where tenant = $1`, [tenant]);
    expect(count[0].n).toBe(1);
  });

  it('take a client by the external id another delivery recorded', async () => {
    const { rows } = await db.pool.query(
      `insert into psa.clients (tenant, client_name) values ($1, 'Blue Team Ltd') returning client_id`, [tenant]);
    const clientId = rows[0].client_id;
    const hook = await ticketWebhook('grafana', { title: 'alerts[0].labels.alertname', client: 'commonLabels.team' });
    await db.pool.query(
      `insert into psa.tenant_external_entity_mappings (tenant, integration_type, alga_entity_type, alga_entity_id, external_entity_id)
       values ($1, 'webhook:grafana', 'client', $2, 'blue')`,
      [tenant, clientId],
    );
    const delivery = await settledDelivery(db.pool, await send(hook, grafana));
    expect(delivery.error_message).toBeNull();
    expect(delivery.dispatch_status).toBe('dispatched');
    const [ticket] = await ticketsOf(hook);
    expect(ticket).toMatchObject({ title: grafana.alerts[0].labels.alertname, client_id: clientId });
  });

  it('keep integers past 2^53 digit for digit (64-bit alert ids)', async () => {
    const hook = await ticketWebhook('bigint-ids', { title: '"alert " & $string(alert.id)', external_id: 'alert.id' });
    // Both round to 9007199254740992 as JavaScript numbers.
    const a = await settledDelivery(db.pool, await sendText(hook, '{"alert":{"id":9007199254740993}}'));
    const b = await settledDelivery(db.pool, await sendText(hook, '{"alert":{"id":9007199254740995}}'));
    expect([a.error_message, b.error_message]).toEqual([null, null]);
    expect([a.handler_outcome.created, b.handler_outcome.created]).toEqual([true, true]);
    expect((await ticketsOf(hook)).map((t) => t.title)).toEqual(['alert 9007199254740993', 'alert 9007199254740995']);
    const { rows } = await db.pool.query(
      `select external_entity_id from psa.tenant_external_entity_mappings
        where tenant = $1 and integration_type = 'webhook:bigint-ids' order by external_entity_id`,
      [tenant],
    );
    expect(rows.map((r) => r.external_entity_id)).toEqual(['9007199254740993', '9007199254740995']);
  });
});

describe('replay', () => {
  it('creates a new delivery dispatched against the current config', async () => {
    const hook = await ticketWebhook('replayed', { title: '"old: " & commonAnnotations.summary' });
    const original = await settledDelivery(db.pool, await send(hook, alertmanager));
    expect(original.dispatch_status).toBe('dispatched');

    const { rows: versions } = await db.pool.query(
      `update intake.inbound_webhooks
          set handler_config = jsonb_set(handler_config, '{field_mapping,title}', '"\\"new: \\" & commonAnnotations.summary"')
        where inbound_webhook_id = $1
        returning config_version`,
      [hook.id],
    );
    expect(versions[0].config_version).toBe(2);

    const { rows } = await db.pool.query(`select intake.replay_delivery($1) as id`, [original.delivery_id]);
    const replayId = rows[0].id as string;
    expect(replayId).not.toBe(original.delivery_id);
    const replay = await settledDelivery(db.pool, replayId);
    expect(replay).toMatchObject({
      is_replay: true,
      replayed_from: original.delivery_id,
      inbound_webhook_id: hook.id,
      dispatch_status: 'dispatched',
      duplicate_of: null,
    });
    expect(replay.request_body).toEqual(original.request_body);

    const titles = (await ticketsOf(hook)).map((t) => t.title);
    const summary = alertmanager.commonAnnotations.summary;
    expect(titles).toEqual([`old: ${summary}`, `new: ${summary}`]);
    expect(replay.handler_outcome.created).toBe(true);
    // The original is left as it was.
    const { rows: again } = await db.pool.query(`select b.* from intake.inbound_webhook_deliveries d cross join lateral intake.delivery_with_body(d) b where d.delivery_id = $1`, [original.delivery_id]);
    expect(again[0]).toMatchObject({ is_replay: false, replayed_from: null, dispatch_status: 'dispatched' });
  });

  it('refuses an unknown delivery', async () => {
    await expect(db.pool.query(`select intake.replay_delivery(gen_random_uuid())`)).rejects.toMatchObject({ code: 'P0002' });
  });
});

describe('ordering', () => {
  const sent = Array.from({ length: 10 }, (_, n) => `n=${n}`);
  const signed = (hook: Hook, title: string) => {
    const body = JSON.stringify({ ...alertmanager, title });
    return { body, headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', hook.secret).update(body).digest('hex') } };
  };

  async function ticketOrder(hook: Hook, ids: string[]) {
    for (const id of ids) expect((await settledDelivery(db.pool, id, 15_000)).dispatch_status).toBe('dispatched');
    const tickets = await ticketsOf(hook); // ordered by ticket number
    // Ticket numbers are consecutive in this tenant's counter.
    const numbers = tickets.map((t) => Number(t.ticket_number.slice(2)));
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0]! + i));
    return tickets.map((t) => t.title);
  }

  // Requests in flight at the same time (started 1 ms apart, none awaited): the receiver never
  // has two batches of one webhook in flight at once, so its commits follow arrival order, and
  // whichever job holds the webhook's drain lock applies its pending deliveries by arrival time.
  it('requests in flight together take effect in the order they were sent', async () => {
    const hook = await ticketWebhook('ordered', { title: 'title' });
    // Connections opened beforehand, so no request waits for a handshake and overtakes the one
    // before it on the way in: the order sent is the order the receiver gets them.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
    let ids: string[];
    try {
      await Promise.all(Array.from({ length: 10 }, () => post(agent, '/healthz', 'GET', null, {})));
      const pending: Promise<{ status: number; body: any }>[] = [];
      for (const title of sent) {
        const { body, headers } = signed(hook, title);
        pending.push(post(agent, `/api/inbound/${TENANT}/${hook.slug}`, 'POST', body, headers));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const answers = await Promise.all(pending);
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
      ids = answers.map((a) => a.body.delivery_id);
    } finally {
      agent.destroy();
    }
    const { rows: arrived } = await db.pool.query(
      `select (intake.delivery_with_body(d)).request_body->>'title' as title from intake.inbound_webhook_deliveries d
        where d.inbound_webhook_id = $1 order by d.received_at, d.delivery_id`,
      [hook.id],
    );
    expect(await ticketOrder(hook, ids), `arrival order: ${arrived.map((r) => r.title).join(' ')}`).toEqual(sent);
  });

  // The documented guarantee (docs/architecture.md, "Order"): a request whose answer came back
  // before the next one was sent is applied first. The ten are recorded while no worker runs;
  // then one starts with 8 concurrent slots and finds them all queued: eight jobs start at once,
  // and only the drain lock (one job applies them all, in arrival order) keeps them in order.
  it('requests sent one after another take effect in that order', async () => {
    const hook = await ticketWebhook('sequential', { title: 'title' });
    await server.stop();
    server = await startTestServer(db.url, { worker: false });
    const ids: string[] = [];
    for (const title of sent) ids.push(await send(hook, { ...alertmanager, title }));
    // Each answered request was its own batch; the first enqueued the webhook's dispatch_webhook
    // job and the others found it queued: the "what is stuck" view shows all ten beside it.
    // (Of this webhook: a drain of an earlier test's webhook that found its lock busy may have
    // left a keyed job of that webhook, rescheduled.)
    const { rows: jobs } = await db.pool.query(
      `select id::text, key from graphile_worker._private_jobs where payload->>'inbound_webhook_id' = $1`, [hook.id]);
    expect(jobs).toEqual([{ id: expect.any(String), key: `drain:${hook.id}` }]);
    const { rows } = await db.pool.query(
      `select count(*)::int as n, count(*) filter (where job_id = $2)::int as beside_it from intake.undispatched_deliveries where inbound_webhook_id = $1`,
      [hook.id, jobs[0].id]);
    expect(rows[0]).toEqual({ n: 10, beside_it: 10 });

    const worker = await startTestServer(db.url, { receiver: false, env: { INTAKE_WORKER_CONCURRENCY: '8' } });
    try {
      const started = Date.now();
      expect(await ticketOrder(hook, ids)).toEqual(sent);
      // No job waits for a poll (2 s): the ten are applied well within one poll interval.
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await worker.stop();
    }
  });
});

function post(agent: http.Agent, path: string, method: string, body: string | null, headers: Record<string, string>) {
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = http.request(`${server.url}${path}`, { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}
