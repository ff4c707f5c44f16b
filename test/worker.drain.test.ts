// The dispatch drain (worker/dispatch.ts): dispatch jobs run in parallel, and the job that holds a
// webhook's drain lock applies that webhook's pending deliveries in arrival order. The receiver
// enqueues one dispatch_webhook job per webhook per batch; a delivery whose attempt failed
// transiently gets a dispatch_delivery job of its own. Deliveries are recorded here with intake.receive_deliveries() (as the receiver
// does) while no worker runs, so the arrival order and the backlog are the test's to choose.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DRAIN_LIMIT, dispatchDelivery, drainWebhook } from '../worker/dispatch.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant, makeWebhook, settledDelivery, startTestServer, waitFor, type TestServer } from './support/server.ts';

const TENANT = 'drain';
const OPTIONS = { jsonataTimeoutMs: 1000 };

let db: TestDatabase;
let tenant: string;
let worker: TestServer | undefined;
beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await makeTenant(db.pool, TENANT);
});
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
});
afterAll(async () => {
  await db?.drop();
});

async function ticketWebhook(slug: string, fieldMapping: Record<string, string>): Promise<string> {
  const hook = await makeWebhook(db.pool, TENANT, {
    name: slug,
    slug,
    auth: { auth_type: 'hmac_sha256' },
    handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: fieldMapping },
  });
  return hook.id;
}

let clock = Date.now() - 600_000;
/** Records the bodies as one receiver batch, in this order (1 ms apart, in the past); their ids. */
async function record(items: { hook: string; body: unknown }[]): Promise<string[]> {
  const batch = items.map(({ hook, body }) => ({
    tenant, inbound_webhook_id: hook, request_method: 'POST', request_path: '/test', request_headers: {},
    request_body: body, request_body_text: JSON.stringify(body), body_format: 'json', content_type: 'application/json',
    source_ip: '127.0.0.1', user_agent: 'test', idempotency_key: null, received_at: new Date(++clock).toISOString(),
  }));
  const { rows } = await db.pool.query(`select item, delivery_id from intake.receive_deliveries($1::jsonb) order by item`, [JSON.stringify(batch)]);
  expect(rows).toHaveLength(items.length);
  return rows.map((r) => r.delivery_id);
}

async function deliveries(ids: string[]) {
  const { rows } = await db.pool.query(
    `select d.*, d.xmin::text as tx from intake.inbound_webhook_deliveries d where delivery_id = any($1::uuid[])`, [ids]);
  const byId = new Map(rows.map((r) => [r.delivery_id, r]));
  return ids.map((id) => byId.get(id)!);
}

/** The titles of the webhook's tickets, by ticket number (the tenant's counter). */
async function ticketTitles(hook: string): Promise<string[]> {
  const { rows } = await db.pool.query(
    `select t.title from psa.tickets t
      where t.ticket_id in (select (handler_outcome->>'ticket_id')::uuid from intake.inbound_webhook_deliveries
                             where inbound_webhook_id = $1 and handler_outcome ? 'ticket_id')
      order by t.ticket_number`,
    [hook],
  );
  return rows.map((r) => r.title);
}

/** The deliveries' own dispatch_delivery jobs (a retry's, a replay's). */
async function jobsOf(ids: string[]) {
  const { rows } = await db.pool.query(`select * from graphile_worker.jobs where key = any($1::text[])`, [ids.map((id) => `dispatch:${id}`)]);
  return rows;
}

/** Queued dispatch jobs of either task, with their payloads, in the order they were added. */
async function dispatchJobs() {
  const { rows } = await db.pool.query(
    `select t.identifier as task, j.payload, j.key, q.queue_name, j.attempts, j.run_at
       from graphile_worker._private_jobs j
       join graphile_worker._private_tasks t on t.id = j.task_id
       left join graphile_worker._private_job_queues q on q.id = j.job_queue_id
      where t.identifier in ('dispatch_webhook', 'dispatch_delivery')
      order by j.id`);
  return rows;
}

async function allJobsDone(timeoutMs = 20_000) {
  await waitFor(async () => ((await dispatchJobs()).length === 0 ? true : undefined), timeoutMs, 'every dispatch job to complete');
}

const titles = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

describe('order', () => {
  it('a backlog of two webhooks is applied in arrival order by 8 workers at once', async () => {
    const a = await ticketWebhook('backlog-a', { title: 'title' });
    const b = await ticketWebhook('backlog-b', { title: 'title' });
    // More than two drains' worth per webhook, recorded in four interleaved batches.
    const n = 2 * DRAIN_LIMIT + 20;
    const sentA = titles('a', n), sentB = titles('b', n);
    const ids: string[] = [];
    for (let part = 0; part < 4; part++) {
      const slice = (sent: string[]) => sent.slice((part * n) / 4, ((part + 1) * n) / 4);
      const items = slice(sentA).flatMap((title, i) => [{ hook: a, body: { title } }, { hook: b, body: { title: slice(sentB)[i]! } }]);
      ids.push(...(await record(items)));
    }
    // One job per webhook, none per delivery: the first batch added them, keyed by webhook, and
    // the later ones found them still queued. On no serial queue.
    const jobs = await dispatchJobs();
    expect(jobs.map((j) => [j.task, j.payload.inbound_webhook_id, j.key])).toEqual([
      ['dispatch_webhook', a, `drain:${a}`],
      ['dispatch_webhook', b, `drain:${b}`],
    ]);
    for (const job of jobs) expect(job).toMatchObject({ queue_name: null, attempts: 0, payload: { tenant } });

    worker = await startTestServer(db.url, { receiver: false, env: { INTAKE_WORKER_CONCURRENCY: '8' } });
    await allJobsDone();
    const rows = await deliveries(ids);
    expect(rows.filter((r) => r.dispatch_status !== 'dispatched')).toEqual([]);
    expect(await ticketTitles(a)).toEqual(sentA);
    expect(await ticketTitles(b)).toEqual(sentB);
    // Drained, not dispatched one per job: far fewer transactions than deliveries.
    expect(new Set(rows.map((r) => r.tx)).size).toBeLessThan(ids.length / 4);
  });

  it("a job whose delivery lies beyond one drain's limit drains on until it is reached", async () => {
    const hook = await ticketWebhook('far-back', { title: 'title' });
    const sent = titles('f', 2 * DRAIN_LIMIT + 5);
    const ids = await record(sent.map((title) => ({ hook, body: { title } })));
    // Only the last delivery's job runs (directly, no worker): everything before it comes first.
    await dispatchDelivery(db.pool, tenant, ids.at(-1)!, { number: 1, max: 8 }, OPTIONS);
    const rows = await deliveries(ids);
    expect(rows.filter((r) => r.dispatch_status !== 'dispatched')).toEqual([]);
    expect(await ticketTitles(hook)).toEqual(sent);
    expect(new Set(rows.map((r) => r.tx)).size).toBe(3); // 50 + 50 + 5, one transaction each
  });
});

describe('failures inside a drain', () => {
  it('a permanent failure fails only that delivery; the ones after it are dispatched', async () => {
    const hook = await ticketWebhook('permanent', { title: 'title', priority: 'priority' });
    const ids = await record([
      { hook, body: { title: 'p0' } },
      { hook, body: { title: 'p1', priority: 'High' } },
      { hook, body: { title: 'p2', priority: 'apocalyptic' } }, // fails in SQL: no such priority
      { hook, body: { title: 'p3' } },
      { hook, body: { name: 'p4' } }, // fails in its mapping: no title
      { hook, body: { title: 'p5', priority: 'low' } },
    ]);
    worker = await startTestServer(db.url, { receiver: false, env: { INTAKE_WORKER_CONCURRENCY: '4' } });
    await allJobsDone(); // the failed one is not retried either
    const rows = await deliveries(ids);
    expect(rows.map((r) => r.dispatch_status)).toEqual(['dispatched', 'dispatched', 'failed', 'dispatched', 'failed', 'dispatched']);
    for (const failed of [rows[2], rows[4]]) expect(failed).toMatchObject({ retry_count: 0, handler_outcome: { error: failed.error_message } });
    expect(rows[2].error_message).toContain('"priority"');
    expect(rows[2].error_message).toContain('"apocalyptic"');
    expect(rows[4].error_message).toContain('"title"');
    expect(rows[4].error_message).toContain('required');
    expect(await ticketTitles(hook)).toEqual(['p0', 'p1', 'p3', 'p5']);
    // All six settled in one drain transaction (the failures recorded in it too).
    expect(new Set(rows.map((r) => r.tx)).size).toBe(1);
  });

  it('a transient failure leaves that delivery pending for its own job, which dispatches it later', async () => {
    const hook = await ticketWebhook('transient', { title: 'title', client: 'client' });
    const { rows: clients } = await db.pool.query(
      `insert into psa.clients (tenant, client_name) values ($1, 'Flaky Ltd') returning client_id`, [tenant]);
    const ids = await record([
      { hook, body: { title: 't0' } },
      { hook, body: { title: 't1', client: clients[0].client_id } },
      { hook, body: { title: 't2' } },
    ]);
    // Looking the client up fails with 42501, which no data explains: transient, retried.
    await db.pool.query(`revoke select on psa.clients from intake_app`);
    let restored = false;
    try {
      await dispatchDelivery(db.pool, tenant, ids[0]!, { number: 1, max: 8 }, OPTIONS);
      let rows = await deliveries(ids);
      expect(rows.map((r) => r.dispatch_status)).toEqual(['dispatched', 'pending', 'dispatched']);
      expect(rows[1].retry_count).toBe(1);
      expect(rows[1].error_message).toMatch(/^attempt failed inside a drain of its webhook, will retry: .*permission denied for table clients/);
      expect(await ticketTitles(hook)).toEqual(['t0', 't2']);
      // It has a job of its own now, which backs off before its first run; later drains pass it by.
      const own = await jobsOf([ids[1]!]);
      expect(own).toHaveLength(1);
      expect(own[0]).toMatchObject({ task_identifier: 'dispatch_delivery', attempts: 0, last_error: null });
      expect(new Date(own[0].run_at).getTime()).toBeGreaterThan(Date.now());
      const later = await record([{ hook, body: { title: 't3' } }]);
      await dispatchDelivery(db.pool, tenant, later[0]!, { number: 1, max: 8 }, OPTIONS);
      expect((await deliveries([ids[1]!, later[0]!])).map((r) => r.dispatch_status)).toEqual(['pending', 'dispatched']);

      // Its own job fails the same way and backs off, as any transient failure does.
      worker = await startTestServer(db.url, { receiver: false, env: { INTAKE_WORKER_CONCURRENCY: '2' } });
      const retrying = await waitFor(async () => {
        const [row] = await deliveries([ids[1]!]);
        return row.error_message?.startsWith('attempt 1 of 8 failed') ? row : undefined;
      }, 15_000, 'its own job to fail once');
      expect(retrying).toMatchObject({ dispatch_status: 'pending', retry_count: 1 });
      expect(retrying.error_message).toMatch(/permission denied for table clients/);

      await db.pool.query(`grant select on psa.clients to intake_app`);
      restored = true;
      const settled = await settledDelivery(db.pool, ids[1]!, 20_000);
      expect(settled).toMatchObject({ dispatch_status: 'dispatched', retry_count: 1, error_message: null });
      expect(settled.handler_outcome).toMatchObject({ action: 'createTicket', created: true });
      await allJobsDone();
      // Overtaken by the deliveries behind it, as a failing job was in a serial queue.
      expect(await ticketTitles(hook)).toEqual(['t0', 't2', 't3', 't1']);
      rows = await deliveries(ids);
      const { rows: ticket } = await db.pool.query(`select client_id from psa.tickets where ticket_id = $1`, [rows[1].handler_outcome.ticket_id]);
      expect(ticket[0].client_id).toBe(clients[0].client_id);
    } finally {
      if (!restored) await db.pool.query(`grant select on psa.clients to intake_app`);
    }
  });
});

describe('jobs of drained deliveries', () => {
  it('do nothing: one ticket per delivery, however many jobs run', async () => {
    const hook = await ticketWebhook('once', { title: 'title' });
    const sent = titles('o', 5);
    const ids = await record(sent.map((title) => ({ hook, body: { title } })));
    // One batch, one job: it drains all five in one transaction.
    expect((await dispatchJobs()).map((j) => j.task)).toEqual(['dispatch_webhook']);
    worker = await startTestServer(db.url, { receiver: false, env: { INTAKE_WORKER_CONCURRENCY: '1' } });
    await allJobsDone();
    const rows = await deliveries(ids);
    expect(new Set(rows.map((r) => r.tx)).size).toBe(1);
    expect(await ticketTitles(hook)).toEqual(sent);
    expect(new Set(rows.map((r) => r.handler_outcome.ticket_id)).size).toBe(5);

    // Any job run again (a retry, a worker that died after the commit): still nothing.
    await drainWebhook(db.pool, tenant, hook, OPTIONS);
    for (const id of ids) await dispatchDelivery(db.pool, tenant, id, { number: 2, max: 8 }, OPTIONS);
    expect(await ticketTitles(hook)).toEqual(sent);
    expect(await deliveries(ids)).toEqual(rows);
  });
});

describe('which job a batch enqueues', () => {
  const queued = async (hook: string) => (await dispatchJobs()).filter((j) => j.payload.inbound_webhook_id === hook);
  afterEach(async () => {
    await db.pool.query(`delete from graphile_worker._private_jobs`);
  });

  it('while a drain of the webhook runs, an unkeyed job besides the queued one', async () => {
    const hook = await ticketWebhook('draining', { title: 'title' });
    await record([{ hook, body: { title: 'd0' } }]);
    expect((await queued(hook)).map((j) => j.key)).toEqual([`drain:${hook}`]);
    // A drain in progress holds the webhook's drain lock until it commits: the queued job may
    // already be the one draining, past reading this batch, so the batch gets a job of its own.
    const drain = await db.pool.connect();
    try {
      await drain.query('begin');
      await drain.query(`select pg_advisory_xact_lock(hashtextextended('intake-drain:' || $1::uuid::text, 0))`, [hook]);
      await record([{ hook, body: { title: 'd1' } }]);
      expect((await queued(hook)).map((j) => j.key)).toEqual([`drain:${hook}`, null]);
    } finally {
      await drain.query('rollback');
      drain.release();
    }
    await record([{ hook, body: { title: 'd2' } }]); // the queued keyed job suffices again
    expect(await queued(hook)).toHaveLength(2);
  });

  it('a keyed job that a worker has locked is replaced; one that failed before is reset', async () => {
    const hook = await ticketWebhook('locked', { title: 'title' });
    await record([{ hook, body: { title: 'l0' } }]);
    await db.pool.query(`update graphile_worker._private_jobs set locked_at = now(), locked_by = 'test' where key = $1`, [`drain:${hook}`]);
    await record([{ hook, body: { title: 'l1' } }]);
    const [running, fresh] = await queued(hook);
    expect(running).toMatchObject({ key: null }); // graphile-worker gives the key up for the new job
    expect(fresh).toMatchObject({ key: `drain:${hook}`, attempts: 0 });

    // A job that failed waits out its backoff: the next batch does not count on it.
    await db.pool.query(`delete from graphile_worker._private_jobs`);
    await record([{ hook, body: { title: 'l2' } }]);
    await db.pool.query(`update graphile_worker._private_jobs set attempts = 1, run_at = now() + interval '1 hour' where key = $1`, [`drain:${hook}`]);
    await record([{ hook, body: { title: 'l3' } }]);
    const [reset] = await queued(hook);
    expect(reset).toMatchObject({ key: `drain:${hook}`, attempts: 0 });
    expect(new Date(reset.run_at).getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('a queued job that a committing batch counts on drains that batch, even when it found nothing else', async () => {
    const hook = await ticketWebhook('counted-on', { title: 'title' });
    const [first] = await record([{ hook, body: { title: 'c0' } }]); // adds the keyed job J
    await dispatchDelivery(db.pool, tenant, first!, { number: 1, max: 8 }, OPTIONS); // another drain takes c0
    expect((await queued(hook)).map((j) => j.key)).toEqual([`drain:${hook}`]);

    // A batch still committing: it holds the drain lock shared and counts on J (adds no job).
    const batch = await db.pool.connect();
    try {
      await batch.query('begin');
      const { rows } = await batch.query(`select delivery_id from intake.receive_deliveries($1::jsonb)`, [JSON.stringify([{
        tenant, inbound_webhook_id: hook, request_method: 'POST', request_path: '/test', request_headers: {},
        request_body: { title: 'c1' }, body_format: 'json', content_type: 'application/json', received_at: new Date(++clock).toISOString(),
      }])]);
      expect(await queued(hook)).toHaveLength(1);
      // J runs now: nothing it can see is pending, yet it must wait for the batch, not end.
      const running = drainWebhook(db.pool, tenant, hook, OPTIONS).then(() => 'ended' as const);
      const waiting = waitFor(async () => {
        const { rows: w } = await db.pool.query(
          `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'`);
        return w.length > 0 ? ('waiting' as const) : undefined;
      }, 10_000, 'the drain to wait for the batch');
      expect(await Promise.race([running, waiting])).toBe('waiting');
      await batch.query('commit');
      await running;
      expect((await deliveries([rows[0].delivery_id]))[0]).toMatchObject({ dispatch_status: 'dispatched' });
      expect(await ticketTitles(hook)).toEqual(['c0', 'c1']);
    } finally {
      await batch.query('rollback').catch(() => {});
      batch.release();
    }
  });

  it("a webhook's job drains on until nothing is pending", async () => {
    const hook = await ticketWebhook('drain-all', { title: 'title' });
    const sent = titles('w', 2 * DRAIN_LIMIT + 5);
    const ids = await record(sent.map((title) => ({ hook, body: { title } })));
    await drainWebhook(db.pool, tenant, hook, OPTIONS);
    const rows = await deliveries(ids);
    expect(rows.filter((r) => r.dispatch_status !== 'dispatched')).toEqual([]);
    expect(await ticketTitles(hook)).toEqual(sent);
    expect(new Set(rows.map((r) => r.tx)).size).toBe(3); // 50 + 50 + 5, one transaction each
  });
});

describe('a drain that holds its lock long', () => {
  /** Holds the webhook's drain lock, as a slow drain would, until release() is called. */
  async function holdDrainLock(hook: string) {
    const client = await db.pool.connect();
    await client.query('begin');
    await client.query(`select pg_advisory_xact_lock(hashtextextended('intake-drain:' || $1::uuid::text, 0))`, [hook]);
    return async () => {
      await client.query('rollback');
      client.release();
    };
  }

  it('takes no worker slot from other webhooks: the jobs waiting for it reschedule, and it drains in order once free', async () => {
    const slow = await ticketWebhook('slow', { title: 'title' });
    const other = await ticketWebhook('other', { title: 'title' });
    const release = await holdDrainLock(slow);
    try {
      // Every batch while the lock is held adds an unkeyed job of its own: more than the slots.
      const sent = titles('s', 12);
      const slowIds: string[] = [];
      for (const title of sent) slowIds.push(...(await record([{ hook: slow, body: { title } }])));
      expect((await dispatchJobs()).filter((j) => j.payload.inbound_webhook_id === slow).length).toBeGreaterThan(8);

      worker = await startTestServer(db.url, { receiver: false, env: { INTAKE_WORKER_CONCURRENCY: '8' } });
      const [otherId] = await record([{ hook: other, body: { title: 'other-000' } }]);
      // Before: all 8 slots waited on the slow webhook's lock, and this was never dispatched.
      expect((await settledDelivery(db.pool, otherId!, 8000)).dispatch_status).toBe('dispatched');

      // The slow webhook's jobs gave up their slots: one keyed job of it is left, rescheduled.
      const left = await waitFor(async () => {
        const jobs = (await dispatchJobs()).filter((j) => j.payload.inbound_webhook_id === slow);
        return jobs.length === 1 ? jobs : undefined;
      }, 10_000, "the slow webhook's jobs to coalesce into one");
      expect(left[0]).toMatchObject({ task: 'dispatch_webhook', key: `drain:${slow}` });
      expect((await deliveries(slowIds)).map((r) => r.dispatch_status)).toEqual(Array(12).fill('pending'));

      await release();
      await waitFor(async () => {
        const rows = await deliveries(slowIds);
        return rows.every((r) => r.dispatch_status === 'dispatched') ? true : undefined;
      }, 10_000, 'the slow webhook to drain');
      expect(await ticketTitles(slow)).toEqual(sent);
    } finally {
      await release().catch(() => {});
    }
  });

  it("a delivery's job reschedules itself with its attempts carried over", async () => {
    const hook = await ticketWebhook('busy-retry', { title: 'title' });
    const [id] = await record([{ hook, body: { title: 'r-000' } }]);
    const release = await holdDrainLock(hook);
    try {
      const started = performance.now();
      await dispatchDelivery(db.pool, tenant, id!, { number: 3, max: 8 }, OPTIONS);
      expect(performance.now() - started).toBeLessThan(2000);
      const jobs = await jobsOf([id!]);
      expect(jobs).toHaveLength(1);
      expect(jobs[0]).toMatchObject({ attempts: 0, max_attempts: 6 });
      expect(new Date(jobs[0].run_at).getTime()).toBeGreaterThan(Date.now());
      const [job] = (await dispatchJobs()).filter((j) => j.key === `dispatch:${id}`);
      expect(job.payload).toEqual({ tenant, delivery_id: id, attempts_before: 2 });
    } finally {
      await release();
    }
    worker = await startTestServer(db.url, { receiver: false });
    expect((await settledDelivery(db.pool, id!, 10_000)).dispatch_status).toBe('dispatched');
  });

  it('a drain that held its lock longer than a job waits drains again: what arrived meanwhile does not wait for the rescheduled job', async () => {
    const hook = await ticketWebhook('held-long', { title: 'title' });
    const [first] = await record([{ hook, body: { title: 'h-000' } }]);
    // The drain waits in its action for the tenant's ticket counter, held here, as a drain of
    // another of the tenant's webhooks would hold it.
    await db.pool.query(`insert into psa.tenant_counters (tenant, counter_name, value) values ($1, 'ticket_number', 1) on conflict do nothing`, [tenant]);
    const counter = await db.pool.connect();
    try {
      await counter.query('begin');
      await counter.query(`select 1 from psa.tenant_counters where tenant = $1 and counter_name = 'ticket_number' for update`, [tenant]);
      const draining = drainWebhook(db.pool, tenant, hook, OPTIONS);
      await waitFor(async () => {
        const { rows } = await db.pool.query(
          `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%next_ticket_number%'`);
        return rows.length > 0 ? true : undefined;
      }, 10_000, 'the drain to wait for the ticket counter');
      // A batch while the drain holds the lock: its job would find the lock busy and reschedule.
      const [meanwhile] = await record([{ hook, body: { title: 'h-001' } }]);
      await new Promise((resolve) => setTimeout(resolve, 250)); // longer than DRAIN_LOCK_WAIT_MS
      await counter.query('commit');
      await draining;
      // Before, the drain ended after its one transaction and h-001 waited for the job, a second later.
      expect((await deliveries([first!, meanwhile!])).map((r) => r.dispatch_status)).toEqual(['dispatched', 'dispatched']);
      expect(await ticketTitles(hook)).toEqual(['h-000', 'h-001']);
    } finally {
      await counter.query('rollback').catch(() => {});
      counter.release();
    }
  });
});
