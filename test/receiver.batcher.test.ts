// The recorder's commit pipeline: the next batch executes while the previous one commits, yet
// batches commit in submission order, a failed batch is settled item by item before anything
// after it executes, and a repeated idempotency key across batches in the pipeline neither
// deadlocks nor records twice (real Postgres for that last part).
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatcher, measuredDepth, type Pending } from '../receiver/batcher.ts';
import { createRecorder, type DeliveryItem } from '../receiver/recorder.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant, makeWebhook } from './support/server.ts';

/**
 * A batcher over an event log; commits of batches listed in `slowCommits` take 30 ms. Up to 4
 * batches in flight (the measured depth is pinned in receiver.batcher's own test below).
 */
function loggingBatcher(opts: {
  slowCommits?: number[]; failing?: (item: number) => boolean; maxBatch?: number;
  keyOf?: (item: number) => string; holdsOrder?: (result: number) => boolean;
}) {
  const log: string[] = [];
  let batchNo = 0;
  const batcher = createBatcher<number, number>({
    maxBatch: opts.maxBatch ?? 2,
    maxUncommitted: 4,
    depth: () => 4,
    ...(opts.keyOf ? { keyOf: opts.keyOf } : {}),
    ...(opts.holdsOrder ? { holdsOrder: opts.holdsOrder } : {}),
    run: async (items) => {
      if (items.some((i) => opts.failing?.(i))) throw new Error('bad item');
      log.push(`run ${items.join(',')}`);
      await sleep(5);
      return items.map((i) => i * 10);
    },
    execute: async (items): Promise<Pending<number>> => {
      const n = ++batchNo;
      log.push(`execute ${items.join(',')}`);
      await sleep(5);
      if (items.some((i) => opts.failing?.(i))) throw new Error('bad item');
      return {
        results: items.map((i) => i * 10),
        commit: async () => {
          if (opts.slowCommits?.includes(n)) await sleep(30);
          log.push(`commit ${items.join(',')}`);
        },
      };
    },
    runOne: async (item) => {
      log.push(`one ${item}`);
      if (opts.failing?.(item)) throw new Error(`item ${item} is bad`);
      return item * 10;
    },
    settle: async () => null,
  });
  return { batcher, log };
}

describe('the batch pipeline', () => {
  it('executes the next batch while the previous commits, and commits in submission order', async () => {
    const { batcher, log } = loggingBatcher({ slowCommits: [1] });
    const first = batcher.submit(0); // alone: nothing ahead of it
    const rest = [1, 2, 3, 4, 5].map((i) => batcher.submit(i));
    expect(await Promise.all([first, ...rest])).toEqual([0, 10, 20, 30, 40, 50]);
    expect(log[0]).toBe('run 0');
    // batch 1,2 is slow to commit; 3,4 and 5 execute meanwhile but commit after it
    expect(log.indexOf('execute 3,4')).toBeLessThan(log.indexOf('commit 1,2'));
    const commits = log.filter((entry) => entry.startsWith('commit'));
    expect(commits).toEqual(['commit 1,2', 'commit 3,4', 'commit 5']);
  });

  it('settles a failed batch item by item before the next batch executes', async () => {
    const { batcher, log } = loggingBatcher({ failing: (i) => i === 4 });
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5, 6].map((i) => batcher.submit(i)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[4] as PromiseRejectedResult).reason.message).toBe('item 4 is bad');
    // 3,4 failed as a batch: its items ran alone after 1,2 committed, before 5,6 executed
    expect(log.indexOf('one 3')).toBeGreaterThan(log.indexOf('commit 1,2'));
    expect(log.indexOf('one 4')).toBeLessThan(log.indexOf('execute 5,6'));
  });

  it("commits a batch of another key before an earlier one still committing, never one of the same key", async () => {
    // one item a batch; item 0 goes alone; 1 (key a) is slow to commit; 2 (key b) and 3 (key a) execute meanwhile
    const { batcher, log } = loggingBatcher({ slowCommits: [1], maxBatch: 1, keyOf: (i) => (i === 2 ? 'b' : 'a') });
    expect(await Promise.all([0, 1, 2, 3].map((i) => batcher.submit(i)))).toEqual([0, 10, 20, 30]);
    const commits = log.filter((entry) => entry.startsWith('commit'));
    expect(commits).toEqual(['commit 2', 'commit 1', 'commit 3']);
  });

  it('commits a later batch of a key first when the earlier one holds the order of that key', async () => {
    // item 1's batch holds key a's order (for deliveries: the webhook's drain lock) until it commits
    const { batcher, log } = loggingBatcher({ slowCommits: [1], maxBatch: 1, keyOf: () => 'a', holdsOrder: (result) => result === 10 });
    expect(await Promise.all([0, 1, 2, 3].map((i) => batcher.submit(i)))).toEqual([0, 10, 20, 30]);
    const commits = log.filter((entry) => entry.startsWith('commit'));
    expect(commits.indexOf('commit 2')).toBeLessThan(commits.indexOf('commit 1'));
    expect(commits.indexOf('commit 3')).toBeLessThan(commits.indexOf('commit 1'));
  });

  it('pipelines by the measured latencies: one batch more in flight for each execution a commit takes', () => {
    expect(measuredDepth({ batches: 0, items: 0, commitMs: 0, executeMs: 0 }, 8)).toBe(2); // not measured yet
    expect(measuredDepth({ batches: 9, items: 80, commitMs: 0.3, executeMs: 1.5 }, 8)).toBe(1); // quick commits: no pipeline
    expect(measuredDepth({ batches: 9, items: 80, commitMs: 5, executeMs: 1.5 }, 8)).toBe(4); // slow disk
  });
});

describe('the recorder on Postgres', () => {
  let db: TestDatabase;
  let tenant: string;
  let webhookId: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    tenant = await makeTenant(db.pool, 'pipeline');
    webhookId = (await makeWebhook(db.pool, 'pipeline', {
      name: 'Alerts', slug: 'alerts', auth: { auth_type: 'hmac_sha256' },
      handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } },
    })).id;
  });
  afterAll(async () => {
    await db?.drop();
  });

  const item = (n: number, key: string | null): DeliveryItem => ({
    tenant,
    inbound_webhook_id: webhookId,
    delivery_id: randomUUID(),
    request_method: 'POST',
    request_path: '/api/inbound/pipeline/alerts',
    request_headers: {},
    request_body: { title: `alert ${n}` },
    request_body_text: null,
    body_format: 'json',
    content_type: 'application/json',
    source_ip: '127.0.0.1',
    user_agent: null,
    idempotency_key: key,
    received_at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, n)).toISOString(),
    failure: null,
    failure_status: null,
    raw_text: JSON.stringify({ title: `alert ${n}` }),
  });

  it('records a key repeated across pipelined batches once, without deadlock', async () => {
    // Batches of 2 with up to 4 uncommitted: the key "same" is first taken by a batch that is
    // not yet committed while later batches holding it execute.
    const recorder = createRecorder(db.pool, { maxBatch: 2, maxUncommitted: 4 });
    const items = Array.from({ length: 24 }, (_, n) => item(n, n % 3 === 1 ? 'same' : null));
    const settled = await Promise.race([
      Promise.all(items.map((i) => recorder.submit(i))),
      sleep(15_000).then(() => 'timed out' as const),
    ]);
    expect(settled).not.toBe('timed out');
    const results = settled as Awaited<ReturnType<typeof recorder.submit>>[];
    const keyed = results.filter((_, n) => n % 3 === 1);
    expect(keyed.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(keyed.map((r) => r.delivery_id)).size).toBe(1);
    const { rows } = await db.pool.query(
      `select count(*) filter (where dispatch_status = 'pending')::int as pending,
              count(*) filter (where dispatch_status = 'duplicate')::int as duplicates
         from intake.inbound_webhook_deliveries where inbound_webhook_id = $1`,
      [webhookId],
    );
    expect(rows[0]).toEqual({ pending: 17, duplicates: 7 });
    // The first transaction that recorded a delivery enqueued the webhook's dispatch_webhook job;
    // the later ones found it still queued (no worker runs here). Duplicates need none.
    const firstTx = await db.pool.query(
      `select xmin::text as tx from intake.inbound_webhook_deliveries where inbound_webhook_id = $1 order by received_at limit 1`,
      [webhookId],
    );
    const jobs = await db.pool.query(
      `select j.xmin::text as tx, j.payload, j.key from graphile_worker._private_jobs j
         join graphile_worker._private_tasks t on t.id = j.task_id
        where t.identifier = 'dispatch_webhook'`,
    );
    expect(jobs.rows).toEqual([{ tx: firstTx.rows[0].tx, payload: { tenant: expect.any(String), inbound_webhook_id: webhookId }, key: `drain:${webhookId}` }]);
    expect(await db.pool.query(`select 1 from graphile_worker.jobs where task_identifier = 'dispatch_delivery'`)).toMatchObject({ rowCount: 0 });
  });

  it("says whether a batch holds its webhook's order: not while a drain of the webhook runs", async () => {
    const recorder = createRecorder(db.pool, { maxBatch: 8, maxUncommitted: 1 });
    expect((await recorder.submit(item(400, null))).drain_held).toBe(true);
    const drain = await db.pool.connect(); // a drain running: the webhook's drain lock, exclusive
    try {
      await drain.query(`select pg_advisory_lock(hashtextextended('intake-drain:' || $1, 0))`, [webhookId]);
      expect((await recorder.submit(item(401, null))).drain_held).toBe(false);
      await drain.query(`select pg_advisory_unlock(hashtextextended('intake-drain:' || $1, 0))`, [webhookId]);
    } finally {
      drain.release();
    }
    expect((await recorder.submit(item(402, null))).drain_held).toBe(true);
    // a duplicate is never dispatched: nothing for a drain to see out of order
    await recorder.submit(item(403, 'held-key'));
    expect(await recorder.submit(item(404, 'held-key'))).toMatchObject({ duplicate: true, drain_held: true });
  });

  async function rowsOf(ids: string[]) {
    const { rows } = await db.pool.query(
      `select delivery_id, dispatch_status, duplicate_of from intake.inbound_webhook_deliveries where delivery_id = any($1::uuid[])`, [ids]);
    return rows;
  }

  it('a retry of a recorded item (the same delivery id) changes nothing and answers as the first time', async () => {
    const recorder = createRecorder(db.pool, { maxBatch: 8, maxUncommitted: 1 });
    const plain = item(100, null);
    const keyed = item(101, 'retry-key');
    const repeat = item(102, 'retry-key'); // a duplicate of keyed
    const failed = { ...item(103, null), failure: 'malformed JSON body', failure_status: 400, request_body: null, raw_text: undefined, request_body_text: '{' };
    // (without `item`, the position in whichever batch it went in)
    const answer = ({ delivery_id, duplicate, response_status, response_body }: Awaited<ReturnType<typeof recorder.submit>>) =>
      ({ delivery_id, duplicate, response_status, response_body });
    const first = (await Promise.all([plain, keyed, repeat, failed].map((i) => recorder.submit(i)))).map(answer);
    const again = (await Promise.all([plain, keyed, repeat, failed].map((i) => recorder.submit(i)))).map(answer);
    expect(again).toEqual(first);
    expect(first.map((r) => r.delivery_id)).toEqual([plain.delivery_id, keyed.delivery_id, keyed.delivery_id, failed.delivery_id]);
    expect(first.map((r) => r.response_status)).toEqual([200, 200, 200, 400]);
    const rows = await rowsOf([plain, keyed, repeat, failed].map((i) => i.delivery_id));
    expect(rows).toHaveLength(4); // one row each, none added by the retry
    expect(rows.find((r) => r.delivery_id === repeat.delivery_id)).toMatchObject({ dispatch_status: 'duplicate', duplicate_of: keyed.delivery_id });
  });

  /**
   * A TCP proxy to Postgres that, once, cuts the connection just before the server's
   * ReadyForQuery that ends the receiver's statement ("statement": an autocommitted batch) or
   * its COMMIT ("commit"): the server has committed, the client only sees the connection reset.
   */
  async function cuttingProxy(mode: 'statement' | 'commit') {
    const target = new URL(db.url);
    const state = { cut: false };
    const server = net.createServer((client) => {
      const upstream = net.connect(Number(target.port || 5432), target.hostname);
      let seenStatement = false;
      let armed = false;
      let buffered = Buffer.alloc(0);
      const close = () => { client.destroy(); upstream.destroy(); };
      client.on('error', close);
      upstream.on('error', close);
      client.on('close', close);
      upstream.on('close', close);
      client.on('data', (data: Buffer) => {
        if (!state.cut) {
          if (data.includes('intake-receive-deliveries')) seenStatement = true;
          if (seenStatement && (mode === 'statement' || data.includes('commit\0'))) armed = true;
        }
        upstream.write(data);
      });
      upstream.on('data', (data: Buffer) => {
        if (!armed || state.cut) return void client.write(data);
        // After the armed request the server's answer starts at a message boundary: forward
        // whole messages up to ReadyForQuery ('Z'), then cut instead of forwarding it.
        buffered = Buffer.concat([buffered, data]);
        let offset = 0;
        while (buffered.length - offset >= 5) {
          const length = buffered.readUInt32BE(offset + 1);
          if (buffered.length - offset < 1 + length) break;
          if (buffered[offset] === 0x5a) {
            client.write(buffered.subarray(0, offset));
            state.cut = true;
            return close();
          }
          offset += 1 + length;
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = new URL(db.url);
    url.hostname = '127.0.0.1';
    url.port = String((server.address() as net.AddressInfo).port);
    const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
    pool.on('error', () => {});
    return { pool, state, close: async () => { await pool.end(); server.close(); } };
  }

  it('keeps the id when a batch is re-run after a reset that came after its commit: one row, the first answer', async () => {
    const proxy = await cuttingProxy('statement');
    try {
      const recorder = createRecorder(proxy.pool, { maxBatch: 8, maxUncommitted: 1 });
      const lone = item(200, null);
      const result = await recorder.submit(lone);
      expect(proxy.state.cut).toBe(true);
      expect(result).toMatchObject({ delivery_id: lone.delivery_id, duplicate: false, response_status: 200 });
      expect(await rowsOf([lone.delivery_id])).toHaveLength(1);
      const { rows } = await db.pool.query(`select count(*)::int as n from intake.inbound_webhook_deliveries where received_at = $1`, [lone.received_at]);
      expect(rows[0].n).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('answers a pipelined batch whose COMMIT reply was lost but which committed, without recording it twice', async () => {
    const proxy = await cuttingProxy('commit');
    try {
      const recorder = createRecorder(proxy.pool, { maxBatch: 8, maxUncommitted: 2 });
      const alone = item(300, null); // nothing ahead of it: autocommitted
      const piped = item(301, null); // executes while the first is in flight: BEGIN … COMMIT
      const results = await Promise.all([recorder.submit(alone), recorder.submit(piped)]);
      expect(proxy.state.cut).toBe(true);
      expect(results.map((r) => r.delivery_id)).toEqual([alone.delivery_id, piped.delivery_id]);
      expect(await rowsOf([alone.delivery_id, piped.delivery_id])).toHaveLength(2);
    } finally {
      await proxy.close();
    }
  });
});
