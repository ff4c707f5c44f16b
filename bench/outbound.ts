// The outbound half of `npm run bench` (BENCH_ONLY=outbound runs it alone): signed deliveries
// per second from Intake's whole outbound path — sweeper, fan-out jobs of up to 20 events,
// outbound_deliver jobs of up to 20 deliveries (secrets opened, Standard Webhooks signature, the
// SSRF-guarded agent, the attempts recorded in one statement) — to a local sink, beside a bare undici loop posting
// the same bodies to the same sink with as many requests in flight as Intake may have. The sink is a child process,
// so neither side shares its event loop.
//   node bench/outbound.ts sink   (the sink itself: prints its port, answers 204)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Agent, request } from 'undici';
import { createPool } from '../core/database.ts';
import { migrateDatabase } from '../core/migrate.ts';
import { createSubscription } from '../core/outbound.ts';
import { parseAllowCidrs } from '../core/outboundAddress.ts';
import { createTenant } from '../core/tenants.ts';
import { startWorker } from '../worker/runner.ts';

const SUBSCRIPTIONS = 10;

export interface OutboundBenchOptions {
  /** a Postgres server (its postgres database); a database of its own is made and dropped */
  serverUrl: string;
  rounds: number;
  /** deliveries per round (events × SUBSCRIPTIONS) */
  deliveries: number;
  concurrency: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function startSink(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'sink'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (chunk) => resolve({ url: `http://127.0.0.1:${String(chunk).trim()}`, child }));
    child.once('exit', (code) => reject(new Error(`the sink exited (${code})`)));
  });
}

/** The bare baseline: `concurrency` loops posting the bodies with undici, nothing else. */
async function bareLoop(url: string, bodies: string[], concurrency: number): Promise<number> {
  const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < bodies.length; i = next++) {
      const res = await request(`${url}/bare/${i % SUBSCRIPTIONS}`, {
        method: 'POST', body: bodies[i], headers: { 'content-type': 'application/json' }, dispatcher: agent,
      });
      await res.body.dump();
      if (res.statusCode !== 204) throw new Error(`sink answered ${res.statusCode}`);
    }
  }));
  const rate = bodies.length / ((performance.now() - started) / 1000);
  await agent.close();
  return rate;
}

export async function benchOutbound(options: OutboundBenchOptions): Promise<string> {
  const admin = new pg.Client({ connectionString: options.serverUrl });
  await admin.connect();
  const dbName = `intake_bench_outbound_${process.pid}`;
  await admin.query(`create database ${dbName}`);
  const u = new URL(options.serverUrl);
  u.pathname = '/' + dbName;
  const url = u.toString();
  const pool = createPool(url, 20);
  const sink = await startSink();
  const masterKey = randomBytes(32);
  const policy = { allowHttp: true, allowCidrs: parseAllowCidrs('127.0.0.0/8') };
  const events = Math.ceil(options.deliveries / SUBSCRIPTIONS);
  const total = events * SUBSCRIPTIONS;
  // a job sends its batch (up to 20 deliveries, of one event or several) at once: at most this
  // many in flight, which the bare loop gets too
  const inFlight = options.concurrency * 20;
  const intakeRates: number[] = [];
  const bareRates: number[] = [];
  try {
    await migrateDatabase(url);
    const client = await pool.connect();
    try {
      const { tenant_id: tenant } = await createTenant(client, { slug: 'bench', name: 'Bench' });
      for (let i = 0; i < SUBSCRIPTIONS; i++) {
        await createSubscription(client, masterKey, policy, 'bench', { url: `${sink.url}/intake/${i}`, event_types: ['client.*'] });
      }
      void tenant;
    } finally {
      client.release();
    }
    const { rows: [{ tenant }] } = await pool.query(`select tenant from psa.tenants where slug = 'bench'`);
    for (let round = 0; round < options.rounds; round++) {
      await pool.query(`delete from intake.outbound_events; delete from graphile_worker._private_jobs; delete from psa.clients`);
      await pool.query(`vacuum analyze intake.outbound_events, intake.outbound_deliveries, intake.outbound_attempts, graphile_worker._private_jobs`);
      // a backlog of events, committed before the worker starts (as after a burst of changes)
      await pool.query(`insert into psa.clients (tenant, client_name, notes) select $1, 'Client ' || n, repeat('x', 800) from generate_series(1, $2::int) n`, [tenant, events]);
      const started = performance.now();
      const worker = await startWorker(pool, {
        concurrency: options.concurrency, jsonataTimeoutMs: 1000,
        outbound: { masterKey, ...policy, timeoutMs: 15_000, disableAfterHours: 120, sweepIntervalMs: 50, eventRetentionDays: 0, attemptRetentionDays: 0, pruneBatch: 1000 },
      });
      for (;;) {
        const { rows } = await pool.query(`select count(*)::int as n from intake.outbound_deliveries where status = 'succeeded'`);
        if (rows[0].n >= total) break;
        await sleep(50);
      }
      intakeRates.push(total / ((performance.now() - started) / 1000));
      await worker.stop();
      const { rows: bad } = await pool.query(`select count(*)::int as n from intake.outbound_deliveries where status <> 'succeeded'`);
      if (bad[0].n > 0) throw new Error(`${bad[0].n} outbound deliveries did not succeed`);

      // the baseline posts the same bodies (each event's payload, once per subscription)
      const { rows: payloads } = await pool.query(`select payload::text as body from intake.outbound_events`);
      const bodies = payloads.flatMap((p) => Array.from({ length: SUBSCRIPTIONS }, () => p.body as string));
      bareRates.push(await bareLoop(sink.url, bodies, inFlight));
    }
    const i = median(intakeRates), b = median(bareRates);
    return `outbound (${events} events × ${SUBSCRIPTIONS} subscriptions, ~1 KB bodies, to a local sink; worker concurrency ${options.concurrency}, at most ${inFlight} in flight, the bare loop ${inFlight})
  delivered           ${fmt(i)} deliveries/s   (rounds: ${intakeRates.map((x) => fmt(x)).join(', ')}; sweep, fan-out, sign, send, record)
  bare undici loop    ${fmt(b)} posts/s        (rounds: ${bareRates.map((x) => fmt(x)).join(', ')}; the same bodies, same sink)
  ratio               ${fmt(i / b, 2)} of the bare loop (aim ≥ 0.50)
`;
  } finally {
    sink.child.kill('SIGKILL');
    await pool.end();
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
}

if (process.argv[2] === 'sink') {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(204);
      res.end();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
}
