// Nothing waits for ever on Postgres or Redis: every pool has statement, lock, idle-in-transaction
// and connect timeouts; Redis commands time out, and the rate limit then fails open (or closed,
// if so set) instead of holding the request.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, DEFAULT_POOL_TIMEOUTS } from '../core/database.ts';
import { createRateLimitBackend } from '../core/redis.ts';
import { ConfigCache } from '../receiver/configCache.ts';
import { createRateLimiter } from '../receiver/rateLimit.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const code = (promise: Promise<unknown>) => promise.then(() => 'no error', (e: { code?: string; message?: string }) => e.code ?? e.message);

describe('a pool', () => {
  it('sets every timeout on its connections', async () => {
    const pool = createPool(db.url, 1);
    try {
      const { rows } = await pool.query(`select current_setting('statement_timeout') as s, current_setting('lock_timeout') as l,
                                                current_setting('idle_in_transaction_session_timeout') as i`);
      expect(rows[0]).toEqual({ s: '30s', l: '15s', i: '1min' });
      expect(DEFAULT_POOL_TIMEOUTS.connectMs).toBe(10_000);
    } finally {
      await pool.end();
    }
  });

  it('ends a runaway statement, a lock wait and a transaction left open', async () => {
    const pool = createPool(db.url, 3, { statementMs: 1000, lockMs: 200, idleInTransactionMs: 500, connectMs: 2000 });
    const holder = await pool.connect();
    try {
      expect(await code(pool.query('select pg_sleep(5)'))).toBe('57014');
      await holder.query(`begin; select pg_advisory_xact_lock(42)`);
      expect(await code(pool.query('select pg_advisory_xact_lock(42)'))).toBe('55P03');
      await holder.query('rollback');
      const idle = await pool.connect();
      await idle.query('begin');
      await sleep(1000);
      expect(await code(idle.query('select 1'))).toMatch(/not queryable|terminat/); // the server closed it
      idle.release(true);
    } finally {
      holder.release(true);
      await pool.end();
    }
  });

  it('gives up connecting to a server that never answers', async () => {
    const silent = net.createServer(() => {}); // accepts, then says nothing
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const pool = createPool(`postgres://postgres@127.0.0.1:${port}/x`, 1, { ...DEFAULT_POOL_TIMEOUTS, connectMs: 300 });
    try {
      const started = performance.now();
      expect(await code(pool.query('select 1'))).toMatch(/timeout/i);
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      await pool.end().catch(() => {});
      silent.close();
    }
  });
});

describe('connections that only wait', () => {
  // (pg keeps the setting on its Connection and applies it to the socket; Node has no getter)
  const keepAlive = (client: unknown) => (client as { connection: { _keepAlive: boolean } }).connection._keepAlive;

  it("the config cache's LISTEN connection and pool connections have TCP keepalive", async () => {
    const pool = createPool(db.url, 1);
    const cache = new ConfigCache(pool, db.url, Buffer.alloc(32), 30_000);
    await cache.start();
    try {
      expect(keepAlive((cache as unknown as { listener: unknown }).listener)).toBe(true);
      const client = await pool.connect();
      expect(keepAlive(client)).toBe(true);
      client.release();
    } finally {
      await cache.close();
      await pool.end();
    }
  });
});

describe('a Redis that stops answering', () => {
  let redis: ChildProcess;
  let url: string;
  beforeAll(async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
        s.on('error', () => resolve(false));
      });
      if (up) return;
      await sleep(100);
    }
    throw new Error('redis-server did not start');
  });
  afterAll(() => {
    redis?.kill('SIGCONT');
    redis?.kill('SIGKILL');
  });

  for (const failClosed of [false, true]) {
    it(`answers within the command timeout, failing ${failClosed ? 'closed' : 'open'}`, async () => {
      const backend = createRateLimitBackend(url, { commandTimeoutMs: 300, connectTimeoutMs: 1000, failClosed, keyPrefix: 'intake-test:timeouts:' });
      const limiter = createRateLimiter(backend.store);
      try {
        expect(await limiter.hit(`hook-${failClosed}`, 5)).toEqual({ limited: false }); // counted while it answers
        redis.kill('SIGSTOP');
        const started = performance.now();
        const verdict = await limiter.hit(`hook-${failClosed}`, 5);
        expect(performance.now() - started).toBeLessThan(1500);
        expect(verdict).toEqual(failClosed ? { limited: true, retryAfterSeconds: expect.any(Number) } : { limited: false });
      } finally {
        redis.kill('SIGCONT');
        await backend.close();
      }
    });
  }
});
