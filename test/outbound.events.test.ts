// Outbound events: written by triggers in the transaction of the change, so each change emits its
// events exactly once — whoever makes it, SQL typed in psql included — and a rolled-back change
// emits none. The sweeper gives every committed event its fan-out job (none left behind while
// writers commit around it), and one event to 1,000 subscriptions costs one add_jobs call.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTBOUND_EVENT_TYPES } from '../core/outboundEvents.ts';
import { sweepOutboundEvents } from '../worker/outbound/sweeper.ts';
import { fanOutOutboundEvent, fanOutOutboundEvents } from '../worker/tasks/outbound_fanout.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant, makeWebhook } from './support/server.ts';

let db: TestDatabase;
let tenant: string;
const seen = new Set<string>();

beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await makeTenant(db.pool, 'acme');
});
afterAll(async () => {
  await db?.drop();
});

let mark = new Date(0);
/** The event types emitted since the last call, in order, with their versions. */
async function emitted(): Promise<{ type: string; version: number | null; data: any }[]> {
  const { rows } = await db.pool.query(
    `select event_type, entity_version, payload, clock_timestamp() as now from intake.outbound_events
      where tenant = $1 and created_at > $2 order by created_at, event_type`,
    [tenant, mark],
  );
  const { rows: [{ now }] } = await db.pool.query('select clock_timestamp() as now');
  mark = now;
  for (const r of rows) seen.add(r.event_type);
  return rows.map((r) => ({ type: r.event_type, version: r.entity_version === null ? null : Number(r.entity_version), data: r.payload.data }));
}
const types = async () => (await emitted()).map((e) => e.type);
const sql = (text: string, values: unknown[] = []) => db.pool.query(text, values);

describe('every event type, once per change', () => {
  it('clients, contacts and assets: created, updated; an update of updated_at alone emits nothing', async () => {
    await emitted();
    const { rows: [c] } = await sql(`insert into psa.clients (tenant, client_name) values ($1, 'Acme Corp') returning client_id`, [tenant]);
    expect(await types()).toEqual(['client.created']);
    await sql(`update psa.clients set client_name = 'Acme Corporation', updated_at = now() where client_id = $1`, [c.client_id]);
    const [updated] = await emitted();
    expect(updated).toMatchObject({ type: 'client.updated', version: 2, data: { changes: { client_name: { from: 'Acme Corp', to: 'Acme Corporation' } } } });
    expect(updated!.data.changes).not.toHaveProperty('updated_at');
    await sql(`update psa.clients set updated_at = now() where client_id = $1`, [c.client_id]);
    expect(await types()).toEqual([]);
    const { rows: [p] } = await sql(`insert into psa.contacts (tenant, full_name, client_id) values ($1, 'Pat Doe', $2) returning contact_name_id`, [tenant, c.client_id]);
    expect(await types()).toEqual(['contact.created']);
    await sql(`update psa.contacts set email = 'pat@acme.example' where contact_name_id = $1`, [p.contact_name_id]);
    expect(await types()).toEqual(['contact.updated']);
    const { rows: [a] } = await sql(`insert into psa.assets (tenant, name) values ($1, 'web-01') returning asset_id`, [tenant]);
    expect(await types()).toEqual(['asset.created']);
    await sql(`update psa.assets set status = 'retired' where asset_id = $1`, [a.asset_id]);
    expect(await types()).toEqual(['asset.updated']);
  });

  it('tickets: created, updated, status_changed (with updated, one version), comment_added; tags added', async () => {
    await emitted();
    const { rows: [t] } = await sql(
      `insert into psa.tickets (tenant, ticket_number, title, board_id, status_id, priority_id)
       select $1, 'T-1', 'Printer down', b.board_id, s.status_id, p.priority_id
         from psa.boards b, psa.statuses s, psa.priorities p
        where b.tenant = $1 and b.is_default and s.tenant = $1 and s.status_type = 'ticket' and s.is_default and p.tenant = $1 and p.is_default
       returning ticket_id`, [tenant]);
    const [created] = await emitted();
    expect(created).toMatchObject({ type: 'ticket.created', version: 1, data: { id: t.ticket_id, entity: 'ticket', object: { title: 'Printer down', ticket_number: 'T-1' } } });
    expect(created!.data.object).not.toHaveProperty('tenant');
    await sql(`update psa.tickets set title = 'Printer on fire' where ticket_id = $1`, [t.ticket_id]);
    expect(await emitted()).toMatchObject([{ type: 'ticket.updated', version: 2 }]);
    await sql(`update psa.tickets set status_id = (select status_id from psa.statuses where tenant = $1 and name = 'Closed'), closed_at = now() where ticket_id = $2`, [tenant, t.ticket_id]);
    const changed = await emitted();
    expect(changed.map((e) => [e.type, e.version])).toEqual([['ticket.status_changed', 3], ['ticket.updated', 3]]);
    expect(Object.keys(changed[0]!.data.changes).sort()).toEqual(['closed_at', 'status_id']);
    await sql(`insert into psa.ticket_comments (tenant, ticket_id, body) values ($1, $2, 'On it')`, [tenant, t.ticket_id]);
    expect(await emitted()).toMatchObject([{ type: 'ticket.comment_added', data: { entity: 'ticket_comment', object: { ticket_id: t.ticket_id, body: 'On it' } } }]);
    const { rows: [tag] } = await sql(`insert into psa.tags (tenant, tag_text) values ($1, 'urgent') returning tag_id`, [tenant]);
    await sql(`insert into psa.tag_links (tenant, tag_id, tagged_type, tagged_id) values ($1, $2, 'ticket', $3)`, [tenant, tag.tag_id, t.ticket_id]);
    expect(await emitted()).toMatchObject([{ type: 'tag.added', data: { object: { tag_text: 'urgent', tagged_type: 'ticket', tagged_id: t.ticket_id } } }]);
  });

  it('invoices: status_changed; paid emits invoice.paid too', async () => {
    await emitted();
    const { rows: [inv] } = await sql(
      `insert into psa.invoices (tenant, invoice_number, client_id, total) select $1, 'INV-1', client_id, 108 from psa.clients where tenant = $1 limit 1 returning invoice_id`, [tenant]);
    expect(await types()).toEqual([]); // a draft is no event of the list
    await sql(`update psa.invoices set status = 'sent' where invoice_id = $1`, [inv.invoice_id]);
    expect(await types()).toEqual(['invoice.status_changed']);
    await sql(`update psa.invoices set status = 'paid', paid_at = now(), amount_paid = 108 where invoice_id = $1`, [inv.invoice_id]);
    const paid = await emitted();
    expect(paid.map((e) => e.type)).toEqual(['invoice.paid', 'invoice.status_changed']);
    expect(paid[0]!.data.changes.status).toEqual({ from: 'sent', to: 'paid' });
    await sql(`update psa.invoices set due_date = current_date where invoice_id = $1`, [inv.invoice_id]);
    expect(await types()).toEqual([]);
  });

  it('project tasks: created, status_changed; time entries: created', async () => {
    await emitted();
    const { rows: [task] } = await sql(
      `with pr as (insert into psa.projects (tenant, project_name, client_id) select $1, 'Migration', client_id from psa.clients where tenant = $1 limit 1 returning project_id)
       insert into psa.project_tasks (tenant, project_id, task_name, status_id)
       select $1, pr.project_id, 'Inventory', s.status_id from pr, psa.statuses s where s.tenant = $1 and s.status_type = 'project_task' and s.is_default
       returning task_id`, [tenant]);
    expect(await types()).toEqual(['project_task.created']);
    await sql(`update psa.project_tasks set status_id = (select status_id from psa.statuses where tenant = $1 and status_type = 'project_task' and name = 'Done') where task_id = $2`, [tenant, task.task_id]);
    expect(await types()).toEqual(['project_task.status_changed']);
    await sql(`update psa.project_tasks set description = 'all racks' where task_id = $1`, [task.task_id]);
    expect(await types()).toEqual([]);
    await sql(
      `with u as (insert into psa.users (tenant, email) values ($1, 'tech@acme.example') returning user_id)
       insert into psa.time_entries (tenant, user_id, work_item_type, task_id, duration_minutes) select $1, user_id, 'project_task', $2, 30 from u`,
      [tenant, task.task_id]);
    expect(await types()).toEqual(['time_entry.created']);
  });

  it("Intake's own: an inbound delivery that fails, a workflow run that fails (without their bodies)", async () => {
    await emitted();
    const hook = await makeWebhook(db.pool, 'acme', {
      name: 'Alerts', slug: 'alerts', auth: { auth_type: 'bearer' },
      handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } },
    });
    const { rows: [d] } = await sql(
      `insert into intake.inbound_webhook_deliveries (tenant, inbound_webhook_id, request_method, request_path, request_body)
       values ($1, $2, 'POST', '/x', '{"secret-ish": "body"}') returning delivery_id`, [tenant, hook.id]);
    expect(await types()).toEqual([]);
    await sql(`update intake.inbound_webhook_deliveries set dispatch_status = 'failed', error_message = 'title: required' where delivery_id = $1`, [d.delivery_id]);
    const [failed] = await emitted();
    expect(failed).toMatchObject({ type: 'inbound.delivery.failed', data: { id: d.delivery_id, object: { error_message: 'title: required', inbound_webhook_id: hook.id } } });
    expect(failed!.data.object).not.toHaveProperty('request_body');
    const { rows: [run] } = await sql(
      `insert into intake.workflow_runs (tenant, workflow_version, definition, input, status) values ($1, 1, '{}', '{"big": "input"}', 'running') returning run_id`, [tenant]);
    await sql(`update intake.workflow_runs set status = 'failed', error_message = 'step 2: boom', finished_at = now() where run_id = $1`, [run.run_id]);
    const [runFailed] = await emitted();
    expect(runFailed).toMatchObject({ type: 'workflow_run.failed', data: { id: run.run_id, object: { error_message: 'step 2: boom' } } });
    expect(runFailed!.data.object).not.toHaveProperty('input');
  });

  it('has emitted every type of the catalogue', () => {
    expect([...seen].sort()).toEqual(OUTBOUND_EVENT_TYPES.map((t) => t.name).sort());
  });
});

it('a change made with the psql command emits too', async () => {
  await emitted();
  const run = promisify(execFile);
  await run('psql', [db.url, '-v', 'ON_ERROR_STOP=1', '-c', `insert into psa.clients (tenant, client_name) values ('${tenant}', 'Typed in psql')`]);
  expect(await emitted()).toMatchObject([{ type: 'client.created', data: { object: { client_name: 'Typed in psql' } } }]);
});

it('a rolled-back change emits nothing, a rolled-back savepoint neither', async () => {
  await emitted();
  const client = await db.pool.connect();
  try {
    await client.query('begin');
    await client.query(`insert into psa.clients (tenant, client_name) values ($1, 'Never')`, [tenant]);
    await client.query('rollback');
    await client.query('begin');
    await client.query(`insert into psa.clients (tenant, client_name) values ($1, 'Kept')`, [tenant]);
    await client.query('savepoint s');
    await client.query(`insert into psa.clients (tenant, client_name) values ($1, 'Undone')`, [tenant]);
    await client.query('rollback to savepoint s');
    await client.query('commit');
  } finally {
    client.release();
  }
  expect((await emitted()).map((e) => e.data.object.client_name)).toEqual(['Kept']);
});

it('keeps a payload under ~20 KB, saying it was cut', async () => {
  await emitted();
  await sql(
    `insert into psa.tickets (tenant, ticket_number, title, description, board_id, status_id, priority_id)
     select $1, 'T-BIG', 'Big', repeat('log line ', 20000), b.board_id, s.status_id, p.priority_id
       from psa.boards b, psa.statuses s, psa.priorities p
      where b.tenant = $1 and b.is_default and s.tenant = $1 and s.status_type = 'ticket' and s.is_default and p.tenant = $1 and p.is_default`, [tenant]);
  const { rows } = await sql(`select octet_length(payload::text) as size, payload from intake.outbound_events where tenant = $1 and payload->'data'->'object'->>'ticket_number' = 'T-BIG'`, [tenant]);
  expect(rows[0].size).toBeLessThan(20_000);
  expect(rows[0].payload.data.truncated).toBe(true);
  expect(rows[0].payload.data.object.description).toHaveLength(1001);
});

describe('the sweeper', () => {
  it('leaves no committed event behind while writers commit around it', async () => {
    const other = await makeTenant(db.pool, 'busy');
    await sql(`insert into intake.outbound_subscriptions (tenant, url, event_types) values ($1, 'https://example.com/h', '{client.*}')`, [other]);
    let writing = true;
    const writer = async (n: number) => {
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        for (let i = 0; i < 40; i++) {
          await c.query('begin');
          await c.query(`insert into psa.clients (tenant, client_name) values ($1, $2)`, [other, `w${n}-${i}`]);
          // commit a little later: the sweeper runs meanwhile and must not miss this event
          await c.query(`select pg_sleep(random() * 0.01)`);
          await c.query('commit');
        }
      } finally {
        await c.end();
      }
    };
    const sweeper = (async () => {
      let sweeps = 0;
      while (writing) {
        await sweepOutboundEvents(db.pool, 7); // small batches, so sweeps interleave with commits
        sweeps++;
      }
      return sweeps;
    })();
    await Promise.all([0, 1, 2, 3].map(writer));
    writing = false;
    expect(await sweeper).toBeGreaterThan(5);
    while ((await sweepOutboundEvents(db.pool)) > 0);
    const { rows: [counts] } = await sql(
      `select count(*)::int as events, count(*) filter (where fanout_enqueued_at is null)::int as unswept
         from intake.outbound_events where tenant = $1`, [other]);
    expect(counts).toEqual({ events: 160, unswept: 0 });
    // every event in exactly one fan-out job, jobs of up to 20 events of this tenant
    const { rows: [cover] } = await sql(
      `with j as (select j.payload from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
                   where t.identifier = 'outbound_fanout' and j.payload->>'tenant' = $1::text)
       select (select count(*)::int from j, json_array_elements_text(j.payload->'event_ids')) as listed,
              (select count(distinct x.id)::int from j, json_array_elements_text(j.payload->'event_ids') x (id)) as distinct_events,
              (select count(*)::int from intake.outbound_events e where e.tenant = $1::uuid
                  and e.event_id in (select x.id::uuid from j, json_array_elements_text(j.payload->'event_ids') x (id))) as matched,
              (select max(json_array_length(j.payload->'event_ids'))::int from j) as largest`, [other]);
    expect(cover).toMatchObject({ listed: 160, distinct_events: 160, matched: 160 });
    expect(cover.largest).toBeLessThanOrEqual(20);
  });

  it('adds one fan-out job per up to 20 events of a tenant, never mixing tenants, and the jobs fan out across events', async () => {
    const [a, b] = [await makeTenant(db.pool, 'chunk-a'), await makeTenant(db.pool, 'chunk-b')];
    for (const t of [a, b]) {
      await sql(`insert into intake.outbound_subscriptions (tenant, url, event_types) select $1, 'https://example.com/c/' || n, '{client.*}' from generate_series(1, 3) n`, [t]);
    }
    await sql(`insert into psa.clients (tenant, client_name) select $1, 'A' || n from generate_series(1, 45) n`, [a]);
    await sql(`insert into psa.clients (tenant, client_name) select $1, 'B' || n from generate_series(1, 3) n`, [b]);
    while ((await sweepOutboundEvents(db.pool)) > 0);
    const { rows: jobs } = await sql(
      `select j.payload from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
        where t.identifier = 'outbound_fanout' and j.payload->>'tenant' in ($1::text, $2::text) order by j.id`, [a, b]);
    const sizes = (t: string) => jobs.filter((j) => j.payload.tenant === t).map((j) => j.payload.event_ids.length).sort((x: number, y: number) => y - x);
    expect(sizes(a)).toEqual([20, 20, 5]);
    expect(sizes(b)).toEqual([3]);
    // each job's events are its tenant's (checked in SQL, the way the fan-out reads them)
    for (const j of jobs) {
      const { rows: [own] } = await sql(`select count(*)::int as n from intake.outbound_events where tenant = $1 and event_id = any($2::uuid[])`, [j.payload.tenant, j.payload.event_ids]);
      expect(own.n).toBe(j.payload.event_ids.length);
    }
    // an id of another tenant is not found: nothing is made for it
    const aJob = jobs.find((j) => j.payload.tenant === a && j.payload.event_ids.length === 20)!;
    expect(await fanOutOutboundEvents(db.pool, b, aJob.payload.event_ids)).toBe(0);
    // one job of 20 events × 3 subscriptions: 60 deliveries in 3 jobs of 20 (across events), one add_jobs call
    // (a connection of its own: a backend's function counts may stay pending past its transaction)
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    let calls: Record<string, number> = {};
    let made = 0;
    try {
      await client.query('begin');
      await client.query(`set local track_functions = 'all'`);
      const { rows: [fanned] } = await client.query('select intake_private.fan_out_outbound_events($1, $2::uuid[]) as n', [a, aJob.payload.event_ids]);
      made = fanned.n;
      const { rows } = await client.query(
        `select funcname, calls::int from pg_stat_xact_user_functions where schemaname = 'graphile_worker' and funcname in ('add_job', 'add_jobs')`);
      calls = Object.fromEntries(rows.map((r) => [r.funcname, r.calls]));
      await client.query('commit');
    } finally {
      await client.end();
    }
    expect(made).toBe(60);
    expect(calls).toEqual({ add_jobs: 1 });
    const { rows: deliverJobs } = await sql(
      `select j.payload from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
        where t.identifier = 'outbound_deliver' and j.payload->>'tenant' = $1::text`, [a]);
    expect(deliverJobs.map((j) => j.payload.delivery_ids.length)).toEqual([20, 20, 20]);
    const { rows: [spread] } = await sql(
      `select count(distinct d.event_id)::int as events, count(*)::int as deliveries, bool_and(d.tenant = $1) as own
         from intake.outbound_deliveries d where d.tenant = $1 and d.delivery_id = any($2::uuid[])`,
      [a, deliverJobs[0].payload.delivery_ids]);
    expect(spread.deliveries).toBe(20);
    expect(spread.events).toBeGreaterThan(1); // a job's batch spans events
    const { rows: [marked] } = await sql(
      `select count(*)::int as n, sum(delivery_count)::int as deliveries from intake.outbound_events where tenant = $1 and event_id = any($2::uuid[]) and fanned_out_at is not null`,
      [a, aJob.payload.event_ids]);
    expect(marked).toEqual({ n: 20, deliveries: 60 });
    // run again: nothing more
    expect(await fanOutOutboundEvents(db.pool, a, aJob.payload.event_ids)).toBe(0);
    const { rows: [again] } = await sql(`select count(*)::int as n from intake.outbound_deliveries where tenant = $1`, [a]);
    expect(again.n).toBe(60);
  });

  it('marks events no subscription wants without a job', async () => {
    const quiet = await makeTenant(db.pool, 'quiet');
    await sql(`insert into psa.clients (tenant, client_name) values ($1, 'Nobody listens')`, [quiet]);
    while ((await sweepOutboundEvents(db.pool)) > 0);
    const { rows } = await sql(`select event_id, fanout_enqueued_at, fanned_out_at, delivery_count from intake.outbound_events where tenant = $1`, [quiet]);
    expect(rows[0]).toMatchObject({ fanout_enqueued_at: expect.any(Date), fanned_out_at: expect.any(Date), delivery_count: 0 });
    const { rows: jobs } = await sql(
      `select 1 from graphile_worker._private_jobs j where j.payload->>'tenant' = $1::text`, [quiet]);
    expect(jobs).toHaveLength(0);
  });
});

it('fans one event out to 1,000 subscriptions with one add_jobs call (jobs of 20 deliveries), and a second run adds nothing', async () => {
  const big = await makeTenant(db.pool, 'big');
  await sql(
    `insert into intake.outbound_subscriptions (tenant, url, event_types)
     select $1, 'https://example.com/h/' || n, case when n % 2 = 0 then '{ticket.*}'::text[] else '{*}'::text[] end from generate_series(1, 1000) n`, [big]);
  // and some that do not match or are off
  await sql(`insert into intake.outbound_subscriptions (tenant, url, event_types) select $1, 'https://example.com/no/' || n, '{invoice.paid}' from generate_series(1, 50) n`, [big]);
  await sql(`insert into intake.outbound_subscriptions (tenant, url, event_types, is_active) select $1, 'https://example.com/off/' || n, '{*}', false from generate_series(1, 50) n`, [big]);
  await sql(
    `insert into psa.tickets (tenant, ticket_number, title, board_id, status_id, priority_id)
     select $1, 'T-1', 'For everyone', b.board_id, s.status_id, p.priority_id
       from psa.boards b, psa.statuses s, psa.priorities p
      where b.tenant = $1 and b.is_default and s.tenant = $1 and s.status_type = 'ticket' and s.is_default and p.tenant = $1 and p.is_default`, [big]);
  while ((await sweepOutboundEvents(db.pool)) > 0);
  const { rows: [event] } = await sql(`select event_id from intake.outbound_events where tenant = $1`, [big]);
  const client = await db.pool.connect();
  let calls: Record<string, number> = {};
  try {
    await client.query('begin');
    await client.query(`set local track_functions = 'all'`);
    const { rows: [made] } = await client.query('select intake_private.fan_out_outbound_event($1, $2) as n', [big, event.event_id]);
    expect(made.n).toBe(1000);
    const { rows } = await client.query(
      `select funcname, calls::int from pg_stat_xact_user_functions where schemaname = 'graphile_worker' and funcname in ('add_job', 'add_jobs')`);
    calls = Object.fromEntries(rows.map((r) => [r.funcname, r.calls]));
    await client.query('commit');
  } finally {
    client.release();
  }
  expect(calls).toEqual({ add_jobs: 1 });
  // 50 jobs of 20 deliveries each, covering every delivery once
  const { rows: [after] } = await sql(
    `select (select count(*)::int from intake.outbound_deliveries where tenant = $1) as deliveries,
            (select count(*)::int from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
              where t.identifier = 'outbound_deliver' and j.payload->>'tenant' = $1::text) as jobs,
            (select count(distinct x.delivery_id)::int from graphile_worker._private_jobs j, json_array_elements_text(j.payload->'delivery_ids') x (delivery_id)
              where j.payload->>'tenant' = $1::text) as covered,
            (select delivery_count from intake.outbound_events where tenant = $1) as recorded`, [big]);
  expect(after).toEqual({ deliveries: 1000, jobs: 50, covered: 1000, recorded: 1000 });
  expect(await fanOutOutboundEvent(db.pool, big, event.event_id)).toBe(0);
  const { rows: [again] } = await sql(`select count(*)::int as n from intake.outbound_deliveries where tenant = $1`, [big]);
  expect(again.n).toBe(1000);
});
