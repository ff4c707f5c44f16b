// Bulk replay in SQL, as the API role sees it: each case runs in a transaction as intake_user with
// the claims of a real user set, then rolls back (the chunks a job would run are run in the same
// transaction as intake_app, the worker's role). Then, with real commits, the job's own
// guarantee: a chunk job that fails, runs again after its commit, or runs twice at once never
// replays an original twice, and one that gives up marks the run failed.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bulkReplayChunkTask, runBulkReplayChunk } from '../worker/tasks/bulk_replay_chunk.ts';
import { asUser, createTestDatabase, type TestDatabase } from './support/db.ts';
import { userWithKey } from './support/graphql.ts';
import { makeTenant, makeWebhook } from './support/server.ts';

let db: TestDatabase;
const tenants = { a: '', b: '', c: '' };
const hooks = { a1: '', a2: '', b1: '', c1: '' };
const users = { admin: '', viewer: '', adminB: '' };

const handler = { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } } as const;

async function seed(tenant: string, hook: string, rows: [minutesAgo: number, status: string, isTest: boolean, isReplay: boolean][]) {
  await db.pool.query(
    `insert into intake.inbound_webhook_deliveries (tenant, inbound_webhook_id, request_method, request_path, request_body,
       received_at, dispatch_status, is_test, is_replay)
     select $1, $2, 'POST', '/x', '{"title":"t"}', now() - make_interval(mins => r.m), r.s, r.t, r.r
       from unnest($3::int[], $4::text[], $5::boolean[], $6::boolean[]) as r (m, s, t, r)`,
    [tenant, hook, rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3])],
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  tenants.a = await makeTenant(db.pool, 'acme');
  tenants.b = await makeTenant(db.pool, 'bravo');
  tenants.c = await makeTenant(db.pool, 'charlie');
  const make = async (tenantSlug: string, slug: string) =>
    (await makeWebhook(db.pool, tenantSlug, { name: slug, slug, auth: { auth_type: 'bearer' }, handler })).id;
  hooks.a1 = await make('acme', 'one');
  hooks.a2 = await make('acme', 'two');
  hooks.b1 = await make('bravo', 'one');
  hooks.c1 = await make('charlie', 'one');
  users.admin = (await userWithKey(db.pool, 'acme', 'admin')).userId;
  users.viewer = (await userWithKey(db.pool, 'acme', 'viewer')).userId;
  users.adminB = (await userWithKey(db.pool, 'bravo', 'admin')).userId;
  const statuses = ['failed', 'dispatched', 'duplicate', 'pending'];
  // a1: 40 deliveries over 40 minutes, every status, some tests and replays
  await seed(tenants.a, hooks.a1, Array.from({ length: 40 }, (_, i) => [i + 1, statuses[i % 4]!, i % 5 === 0, i % 7 === 0]));
  await seed(tenants.a, hooks.a2, Array.from({ length: 9 }, (_, i) => [i * 3 + 2, i % 2 ? 'failed' : 'dispatched', false, false]));
  await seed(tenants.b, hooks.b1, Array.from({ length: 12 }, (_, i) => [i + 1, 'failed', false, false]));
  await seed(tenants.c, hooks.c1, Array.from({ length: 10 }, (_, i) => [i + 1, 'failed', false, false]));
});
afterAll(async () => {
  await db?.drop();
});


interface Filter {
  inbound_webhook_id?: string;
  dispatch_status?: string;
  is_test?: boolean;
  is_replay?: boolean;
  received_from?: string;
  received_before?: string;
}
const ARGS = `inbound_webhook_id => $1, dispatch_status => $2, is_test => $3, is_replay => $4, received_from => $5, received_before => $6`;
const values = (f: Filter) => [f.inbound_webhook_id ?? null, f.dispatch_status ?? null, f.is_test ?? null, f.is_replay ?? null,
  f.received_from ?? null, f.received_before ?? null];

/** The deliveries the filter means, by plain SQL over what this transaction sees (the delivery log's condition). */
async function expected(client: pg.PoolClient, f: Filter): Promise<string[]> {
  const { rows } = await client.query(
    `select delivery_id::text as id from intake.inbound_webhook_deliveries
      where ($1::uuid is null or inbound_webhook_id = $1) and ($2::text is null or dispatch_status = $2)
        and ($3::boolean is null or is_test = $3) and ($4::boolean is null or is_replay = $4)
        and ($5::timestamptz is null or received_at >= $5) and ($6::timestamptz is null or received_at < $6)
      order by 1`,
    values(f),
  );
  return rows.map((r) => r.id);
}

/** Runs every chunk of the bulk replay in this transaction, as the worker's role, `size` at a time. */
async function runAllChunks(client: pg.PoolClient, tenant: string, id: string, size: number) {
  await client.query(`select set_config('role', 'intake_app', true)`);
  let chunks = 0;
  for (;;) {
    const { rows } = await client.query(`select * from intake_private.bulk_replay_chunk($1, $2, $3)`, [tenant, id, size]);
    chunks++;
    if (rows[0].status !== 'running') {
      await client.query(`select set_config('role', 'intake_user', true)`);
      return { run: rows[0], chunks };
    }
    if (chunks > 100) throw new Error('bulk replay never finished');
  }
}

async function replaysOf(client: pg.PoolClient, since: Date): Promise<string[]> {
  const { rows } = await client.query(
    `select replayed_from::text as id from intake.inbound_webhook_deliveries where is_replay and received_at >= $1 order by 1`, [since]);
  return rows.map((r) => r.id);
}

describe('as intake_user', () => {
  const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
  const filters: Filter[] = [
    { inbound_webhook_id: '' /* a1 */, dispatch_status: 'failed' },
    { inbound_webhook_id: '', is_test: false, is_replay: false },
    { dispatch_status: 'failed' },
    { is_replay: true },
    { dispatch_status: 'dispatched', received_from: minutesAgo(30.5), received_before: minutesAgo(9.5) },
    {},
  ];

  it('replays exactly the deliveries the count counted, each once, in chunks, and progress reaches the total', async () => {
    for (const template of filters) {
      const f = { ...template, ...(template.inbound_webhook_id === '' ? { inbound_webhook_id: hooks.a1 } : {}) };
      await asUser(db.pool, tenants.a, users.admin, async (client) => {
        const want = await expected(client, f);
        expect(want.length, JSON.stringify(f)).toBeGreaterThan(0);
        const count = (await client.query(`select intake.bulk_replay_count(${ARGS}) as n`, values(f))).rows[0].n;
        expect(count, JSON.stringify(f)).toBe(want.length);

        const since = (await client.query(`select clock_timestamp() as t`)).rows[0].t;
        const started = (await client.query(`select * from intake.start_bulk_replay(${ARGS})`, values(f))).rows[0];
        expect(started).toMatchObject({ tenant: tenants.a, status: 'running', total: count, processed: 0, failed: 0, started_by: users.admin });
        // one job waits for it, carrying ids only (graphile_worker is the owner's to read)
        await client.query(`select set_config('role', 'postgres', true)`);
        const jobs = await client.query(
          `select j.payload from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
            where t.identifier = 'bulk_replay_chunk' and j.key = $1`,
          [`bulk_replay:${started.bulk_replay_id}`]);
        expect(jobs.rows).toEqual([{ payload: { tenant: tenants.a, bulk_replay_id: started.bulk_replay_id } }]);
        await client.query(`select set_config('role', 'intake_user', true)`);

        const { run, chunks } = await runAllChunks(client, tenants.a, started.bulk_replay_id, 4);
        expect(run, JSON.stringify(f)).toMatchObject({ status: 'finished', total: count, processed: count, failed: 0 });
        expect(run.finished_at).not.toBeNull();
        expect(chunks).toBe(Math.ceil(count / 4));
        // each original replayed once, and only those
        expect(await replaysOf(client, since), JSON.stringify(f)).toEqual(want);
        // its own replays are after its cut-off: never its originals, even where the filter matches them
        if (f.is_replay !== false && !f.dispatch_status && !f.received_before) { // the replays are pending
          expect((await expected(client, f)).length).toBe(count * 2);
          expect((await client.query(`select intake.bulk_replay_count(${ARGS}) as n`, values(f))).rows[0].n).toBe(count);
        }
        // the run's row, with the job's position hidden behind it, is readable with read
        const { rows } = await client.query(`select processed, status from intake.bulk_replays where bulk_replay_id = $1`, [run.bulk_replay_id]);
        expect(rows).toEqual([{ processed: count, status: 'finished' }]);
      });
    }
  });

  it('replays in arrival order, oldest first', async () => {
    await asUser(db.pool, tenants.a, users.admin, async (client) => {
      const started = (await client.query(`select * from intake.start_bulk_replay(inbound_webhook_id => $1)`, [hooks.a2])).rows[0];
      await runAllChunks(client, tenants.a, started.bulk_replay_id, 4);
      const { rows } = await client.query(
        `select o.received_at as original from intake.inbound_webhook_deliveries r
           join intake.inbound_webhook_deliveries o on o.tenant = r.tenant and o.delivery_id = r.replayed_from
          where r.is_replay and r.inbound_webhook_id = $1 and r.received_at >= $2
          order by r.received_at, r.delivery_id`,
        [hooks.a2, started.cutoff_at],
      );
      const times = rows.map((r) => r.original.getTime());
      expect(times).toHaveLength(9);
      expect(times).toEqual([...times].sort((x, y) => x - y));
    });
  });

  it('lets a viewer count and read, but not start one or write the table (42501)', async () => {
    await asUser(db.pool, tenants.a, users.viewer, async (client) => {
      expect((await client.query(`select intake.bulk_replay_count(dispatch_status => 'failed') as n`)).rows[0].n).toBeGreaterThan(0);
      await expect(client.query(`select intake.start_bulk_replay(dispatch_status => 'failed')`)).rejects.toMatchObject({
        code: '42501', message: expect.stringContaining('inbound_webhook:replay'),
      });
    });
    await asUser(db.pool, tenants.a, users.viewer, async (client) => {
      await expect(client.query(
        `insert into intake.bulk_replays (tenant, cutoff_at, total) values ($1, now(), 0)`, [tenants.a],
      )).rejects.toMatchObject({ code: '42501' });
    });
    // nobody of the API role moves a run's progress but the worker
    await asUser(db.pool, tenants.a, users.admin, async (client) => {
      const started = (await client.query(`select * from intake.start_bulk_replay(inbound_webhook_id => $1)`, [hooks.a2])).rows[0];
      await expect(client.query(`update intake.bulk_replays set processed = total where bulk_replay_id = $1`, [started.bulk_replay_id]))
        .rejects.toMatchObject({ code: '42501' });
    });
    await asUser(db.pool, tenants.a, users.admin, async (client) => {
      await expect(client.query(`select intake_private.bulk_replay_chunk($1, gen_random_uuid())`, [tenants.a]))
        .rejects.toMatchObject({ code: '42501' });
    });
  });

  it("never counts, replays or shows another tenant's deliveries and runs", async () => {
    await asUser(db.pool, tenants.a, users.admin, async (client) => {
      const all = (await client.query(`select intake.bulk_replay_count() as n`)).rows[0].n;
      expect(all).toBe(49); // a1 40 + a2 9; not bravo's 12 or charlie's 10
      expect((await client.query(`select intake.bulk_replay_count(inbound_webhook_id => $1) as n`, [hooks.b1])).rows[0].n).toBe(0);
      const since = new Date();
      const started = (await client.query(`select * from intake.start_bulk_replay()`)).rows[0];
      expect(started.total).toBe(49);
      await runAllChunks(client, tenants.a, started.bulk_replay_id, 50);
      await client.query(`select set_config('role', 'postgres', true)`); // the owner: every tenant's rows
      const { rows } = await client.query(
        `select tenant::text, count(*)::int as n from intake.inbound_webhook_deliveries where is_replay and received_at >= $1 group by 1`, [since]);
      expect(rows).toEqual([{ tenant: tenants.a, n: 49 }]);
    });
    await asUser(db.pool, tenants.a, users.admin, async (client) => {
      await expect(client.query(`select intake.start_bulk_replay(inbound_webhook_id => $1)`, [hooks.b1])).rejects.toMatchObject({ code: 'P0002' });
    });
    // bravo's admin with acme's tenant set has no role there: nothing to count, no start
    await asUser(db.pool, tenants.a, users.adminB, async (client) => {
      await expect(client.query(`select intake.start_bulk_replay()`)).rejects.toMatchObject({ code: '42501' });
    });
    // a run of bravo is not visible to acme, nor can acme's transactions enqueue or chunk it
    const { rows } = await db.pool.query(`select bulk_replay_id from intake.start_bulk_replay(inbound_webhook_id => $1, received_before => now() - interval '1 day')`, [hooks.b1]);
    await asUser(db.pool, tenants.a, users.admin, async (client) => {
      expect((await client.query(`select * from intake.bulk_replays where bulk_replay_id = $1`, [rows[0].bulk_replay_id])).rows).toEqual([]);
      await expect(client.query(`select intake_private.enqueue_bulk_replay($1, $2)`, [tenants.b, rows[0].bulk_replay_id]))
        .rejects.toMatchObject({ code: '42501' });
    });
  });

  it('refuses an unknown dispatch status (22023), and without a tenant needs a webhook', async () => {
    await asUser(db.pool, tenants.a, users.admin, async (client) => {
      await expect(client.query(`select intake.bulk_replay_count(dispatch_status => 'done')`)).rejects.toMatchObject({
        code: '22023', message: expect.stringContaining('dispatchStatus must be one of pending, dispatched, duplicate, failed'),
      });
    });
    // a DBA in psql (the owner, no intake.tenant): the webhook names the tenant
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      expect((await client.query(`select intake.bulk_replay_count(inbound_webhook_id => $1, dispatch_status => 'failed') as n`, [hooks.b1])).rows[0].n).toBe(12);
      const run = (await client.query(`select * from intake.start_bulk_replay(inbound_webhook_id => $1, dispatch_status => 'failed')`, [hooks.b1])).rows[0];
      expect(run).toMatchObject({ tenant: tenants.b, total: 12, status: 'running', started_by: null });
      await expect(client.query(`select intake.start_bulk_replay(dispatch_status => 'failed')`)).rejects.toMatchObject({
        code: '22023', message: expect.stringContaining('no tenant'),
      });
    } finally {
      await client.query('rollback');
      client.release();
    }
  });
});

describe('InboundWebhook.lastDeliveryAt', () => {
  it("is the newest delivery's received_at, null without one", async () => {
    const empty = (await makeWebhook(db.pool, 'acme', { name: 'none', slug: 'none', auth: { auth_type: 'bearer' }, handler })).id;
    await asUser(db.pool, tenants.a, users.viewer, async (client) => {
      const { rows } = await client.query(
        `select w.inbound_webhook_id::text as id, intake.inbound_webhooks_last_delivery_at(w) as last,
                (select max(received_at) from intake.inbound_webhook_deliveries d where d.inbound_webhook_id = w.inbound_webhook_id) as want
           from intake.inbound_webhooks w order by w.slug`,
      );
      expect(rows).toHaveLength(3);
      for (const row of rows) expect(row.last?.getTime(), row.id).toBe(row.want?.getTime());
      expect(rows.find((r) => r.id === empty).last).toBeNull();
    });
    await db.pool.query(`delete from intake.inbound_webhooks where inbound_webhook_id = $1`, [empty]);
  });

  it("is one probe of the webhook's index, also for a quiet webhook beside a busy one", async () => {
    // the case a walk of the tenant's deliveries by time would make slow: the quiet webhook's
    // only delivery is a month old, behind 20,000 of the busy one's
    const tenant = await makeTenant(db.pool, 'delta');
    const busy = (await makeWebhook(db.pool, 'delta', { name: 'busy', slug: 'busy', auth: { auth_type: 'bearer' }, handler })).id;
    const quiet = (await makeWebhook(db.pool, 'delta', { name: 'quiet', slug: 'quiet', auth: { auth_type: 'bearer' }, handler })).id;
    await db.pool.query(
      `insert into intake.inbound_webhook_deliveries (tenant, inbound_webhook_id, request_method, request_path, received_at, dispatch_status)
       select $1::uuid, $2::uuid, 'POST', '/x', now() - make_interval(secs => i), 'dispatched' from generate_series(1, 20000) i
       union all select $1, $3, 'POST', '/x', now() - interval '30 days', 'dispatched'`,
      [tenant, busy, quiet],
    );
    await db.pool.query(`analyze intake.inbound_webhook_deliveries`); // statistics, as autovacuum keeps them
    const viewer = (await userWithKey(db.pool, 'delta', 'viewer')).userId;
    await asUser(db.pool, tenant, viewer, async (client) => {
      const { rows } = await client.query(`select intake.inbound_webhooks_last_delivery_at(w) as last from intake.inbound_webhooks w where slug = 'quiet'`);
      expect(Date.now() - rows[0].last.getTime()).toBeGreaterThan(29 * 86_400_000);
      // the function's query: the first entry of deliveries_webhook_received_idx (tenant,
      // inbound_webhook_id, received_at desc, …), no sort, one row read
      const plan = JSON.stringify((await client.query(
        `explain (analyze, format json) select d.received_at from intake.inbound_webhook_deliveries d
          where d.tenant = $1 and d.inbound_webhook_id = $2 order by d.received_at desc limit 1`, [tenant, quiet],
      )).rows[0]['QUERY PLAN']);
      expect(plan).toContain('"Index Name":"deliveries_webhook_received_idx"');
      expect(plan).not.toContain('Sort');
      expect(plan).not.toMatch(/"Rows Removed by Filter":[1-9]\d{2,}/);
    });
  });
});

describe('the chunk job, with real commits', () => {
  async function start(): Promise<string> {
    const { rows } = await db.pool.query(`select bulk_replay_id from intake.start_bulk_replay(inbound_webhook_id => $1, is_replay => false)`, [hooks.c1]);
    return rows[0].bulk_replay_id;
  }
  /** how many replays each of charlie's originals has, and the run's row */
  async function state(id: string) {
    const { rows } = await db.pool.query(
      `select o.delivery_id, count(r.delivery_id)::int as replays
         from intake.inbound_webhook_deliveries o
         left join intake.inbound_webhook_deliveries r on r.tenant = o.tenant and r.replayed_from = o.delivery_id and r.is_replay
        where o.tenant = $1 and not o.is_replay group by 1`,
      [tenants.c],
    );
    const run = (await db.pool.query(`select * from intake.bulk_replays where bulk_replay_id = $1`, [id])).rows[0];
    return { replays: rows.map((r) => r.replays), run };
  }
  async function clear() {
    await db.pool.query(`delete from intake.inbound_webhook_deliveries where tenant = $1 and is_replay`, [tenants.c]);
  }

  it('a job that runs again after its commit, or twice at once, never replays an original twice', async () => {
    await clear();
    const id = await start();
    expect((await runBulkReplayChunk(db.pool, tenants.c, id, 4))?.processed).toBe(4);
    // the worker died after that commit and before completing the job: the job runs again, and
    // so does the next-chunk job the commit enqueued — at the same time
    const [x, y] = await Promise.all([runBulkReplayChunk(db.pool, tenants.c, id, 4), runBulkReplayChunk(db.pool, tenants.c, id, 4)]);
    expect([x?.processed, y?.processed].sort((p, q) => p! - q!)).toEqual([8, 10]);
    // and once more after the end: nothing happens
    expect(await runBulkReplayChunk(db.pool, tenants.c, id, 4)).toMatchObject({ status: 'finished', processed: 10, total: 10 });
    const { replays, run } = await state(id);
    expect(replays).toEqual(Array(10).fill(1));
    expect(run).toMatchObject({ status: 'finished', processed: 10, failed: 0 });
  });

  it('a job that fails part-way through a chunk keeps nothing of it, and its retry replays each original once', async () => {
    await clear();
    const id = await start();
    await runBulkReplayChunk(db.pool, tenants.c, id, 4);
    // the 3rd replay of the next chunk fails (as a lost connection or a full disk would)
    await db.pool.query(`
      create function test_fail_third() returns trigger language plpgsql as $$
      begin
        if (select count(*) from intake.inbound_webhook_deliveries where tenant = new.tenant and is_replay) >= 6 then
          raise exception 'injected failure';
        end if;
        return new;
      end $$;
      create trigger zz_fail before insert on intake.inbound_webhook_deliveries for each row when (new.is_replay)
        execute function test_fail_third();`);
    try {
      await expect(runBulkReplayChunk(db.pool, tenants.c, id, 4)).rejects.toThrow('injected failure');
      const mid = await state(id);
      expect(mid.run).toMatchObject({ status: 'running', processed: 4 });
      expect(mid.replays.filter((n) => n === 1)).toHaveLength(4);
    } finally {
      await db.pool.query(`drop trigger zz_fail on intake.inbound_webhook_deliveries; drop function test_fail_third()`);
    }
    while ((await runBulkReplayChunk(db.pool, tenants.c, id, 4))?.status === 'running');
    const { replays, run } = await state(id);
    expect(replays).toEqual(Array(10).fill(1));
    expect(run).toMatchObject({ status: 'finished', processed: 10, total: 10 });
  });

  it('on its last attempt a failing job marks the run failed, with the reason', async () => {
    await clear();
    const id = await start();
    await db.pool.query(`
      create function test_fail_all() returns trigger language plpgsql as $$
      begin raise exception 'disk full'; end $$;
      create trigger zz_fail before insert on intake.inbound_webhook_deliveries for each row when (new.is_replay)
        execute function test_fail_all();`);
    try {
      const task = bulkReplayChunkTask(db.pool);
      const helpers = (attempts: number) => ({ job: { attempts, max_attempts: 10 }, logger: { error() {} } }) as any;
      await expect(task({ tenant: tenants.c, bulk_replay_id: id }, helpers(3))).rejects.toThrow('disk full');
      expect((await state(id)).run).toMatchObject({ status: 'running', processed: 0 });
      await expect(task({ tenant: tenants.c, bulk_replay_id: id }, helpers(10))).rejects.toThrow('disk full');
      const { run, replays } = await state(id);
      expect(run).toMatchObject({ status: 'failed', processed: 0, error_message: expect.stringContaining('gave up after 10 attempts: disk full') });
      expect(run.finished_at).not.toBeNull();
      expect(replays).toEqual(Array(10).fill(0));
    } finally {
      await db.pool.query(`drop trigger zz_fail on intake.inbound_webhook_deliveries; drop function test_fail_all()`);
    }
    // a failed run is over: a late job does nothing
    expect(await runBulkReplayChunk(db.pool, tenants.c, id, 4)).toMatchObject({ status: 'failed' });
    expect((await state(id)).replays).toEqual(Array(10).fill(0));
  });

  it('finishes below the total when an original is deleted before its chunk reaches it', async () => {
    await clear();
    const id = await start();
    await runBulkReplayChunk(db.pool, tenants.c, id, 4);
    await db.pool.query(
      `delete from intake.inbound_webhook_deliveries where delivery_id = (
         select delivery_id from intake.inbound_webhook_deliveries where tenant = $1 and not is_replay order by received_at desc limit 1)`,
      [tenants.c],
    );
    while ((await runBulkReplayChunk(db.pool, tenants.c, id, 4))?.status === 'running');
    const { run, replays } = await state(id);
    expect(run).toMatchObject({ status: 'finished', total: 10, processed: 9, failed: 0 });
    expect(replays).toEqual(Array(9).fill(1));
  });
});
