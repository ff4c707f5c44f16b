// npm run bench — throughput of the receiver and the worker, each beside a baseline measured in
// the same run on the same machine:
//   receiver: signed requests/s from wrk (or autocannon) on loopback  vs  pgbench single-row insert tx/s
//             with the same number of connections (what Postgres itself sustains here)
//   worker:   dispatched deliveries/s (createTicket)           vs  graphile-worker no-op jobs/s
// Every figure is the median of ROUNDS rounds. Nothing here is a pass/fail test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Logger, run as runWorker } from 'graphile-worker';
import pg from 'pg';
import { createPool } from '../core/database.ts';
import { PROJECT_ROOT } from '../core/env.ts';
import { migrateDatabase } from '../core/migrate.ts';
import { createTenant } from '../core/tenants.ts';
import { createWebhook } from '../core/webhooks.ts';
import { startWorker } from '../worker/runner.ts';
import { benchOutbound } from './outbound.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
// Receiver load at each of these connection counts (pgbench gets the same number). Senders are
// many in practice; 64 stays under a default Postgres's max_connections = 100 with pgbench's.
const CONNECTION_COUNTS = (process.env.BENCH_CONNECTIONS ?? '16,64').split(',').map(Number);
if (CONNECTION_COUNTS.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('BENCH_CONNECTIONS must be a comma-separated list of positive integers');
const JOBS = Number(process.env.BENCH_JOBS ?? 2000);
const WORKER_CONCURRENCY = Number(process.env.INTAKE_WORKER_CONCURRENCY ?? 8);
const WEBHOOKS = 32; // the worker's load is spread over them, as many webhooks of many tenants would be
// How many of them the receiver load is spread over. 1 is the worst case (one webhook's
// deliveries commit one batch at a time, in arrival order); an MSP's traffic comes from many.
const RECEIVER_WEBHOOKS = Math.min(WEBHOOKS, Number(process.env.BENCH_RECEIVER_WEBHOOKS ?? 1));
// BENCH_ONLY=receiver, worker or outbound runs one part (for profiling one side).
const ONLY = process.env.BENCH_ONLY ?? '';
if (!['', 'receiver', 'worker', 'outbound'].includes(ONLY)) throw new Error(`BENCH_ONLY must be receiver, worker or outbound, not "${ONLY}"`);

const quiet = new Logger(() => () => {});

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function serverUrl(): string {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  return 'postgres://postgres@127.0.0.1:5432/postgres';
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}

async function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`receiver did not start: ${seen}`)), timeoutMs);
    child.stdout!.on('data', (chunk) => {
      seen += chunk;
      const match = seen.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.on('exit', (code) => reject(new Error(`receiver exited (${code}): ${seen}`)));
  });
}

function peakRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(status.match(/VmHWM:\s+(\d+)/)?.[1] ?? 0);
  return kb / 1024;
}

async function pendingCount(pool: pg.Pool, sql: string): Promise<number> {
  return Number((await pool.query(sql)).rows[0].n);
}

async function timeUntilDrained(pool: pg.Pool, countSql: string, total: number, started = performance.now()): Promise<number> {
  for (;;) {
    const left = await pendingCount(pool, countSql);
    if (left === 0) return total / ((performance.now() - started) / 1000);
    await sleep(50);
  }
}

interface LoadRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}
interface LoadResult {
  rate: number;
  p50: number;
  p99: number;
}

// The load generator competes with the receiver and Postgres for this machine's cores, so the
// lighter one is used when it is installed: wrk (C, like pgbench; Debian package `wrk`), else
// autocannon (JavaScript, from npm).
const useWrk = !spawnSync('wrk', ['--version']).error;

async function runAutocannon(url: string, requests: LoadRequest[], connections: number): Promise<LoadResult> {
  const result = await autocannon({ url, connections, duration: SECONDS, requests });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`receiver answered ${result.non2xx} non-2xx and ${result.errors} errors`);
  return { rate: result['2xx'] / (result.duration || SECONDS), p50: result.latency.p50, p99: result.latency.p99 };
}

function runWrk(url: string, requests: LoadRequest[], connections: number): LoadResult {
  // Each wrk thread cycles through the requests, as autocannon's connections do.
  const script = path.join(os.tmpdir(), `intake-bench-${process.pid}.lua`);
  fs.writeFileSync(
    script,
    `local reqs = {${requests.map((r) => `{path = ${JSON.stringify(r.path)}, headers = {${Object.entries(r.headers)
      .map(([k, v]) => `[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
      .join(', ')}}, body = ${JSON.stringify(r.body)}}`).join(', ')}}
local i = 0
request = function()
  i = i % #reqs + 1
  return wrk.format("POST", reqs[i].path, reqs[i].headers, reqs[i].body)
end
`,
  );
  try {
    const out = spawnSync('wrk', ['-t', '2', '-c', String(connections), '-d', `${SECONDS}s`, '--latency', '-s', script, url], { encoding: 'utf8' }).stdout;
    if (/Non-2xx|Socket errors/.test(out)) throw new Error(`receiver answered errors under load:\n${out}`);
    const ms = (label: string) => {
      const m = out.match(new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`));
      if (!m) throw new Error(`could not read the ${label}th percentile from wrk:\n${out}`);
      return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
    };
    const rate = Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]);
    if (!Number.isFinite(rate)) throw new Error(`could not read wrk's rate:\n${out}`);
    return { rate, p50: ms('50'), p99: ms('99') };
  } finally {
    fs.rmSync(script, { force: true });
  }
}

async function main() {
  // outbound webhooks: bench/outbound.ts, in a database of its own, after the rest
  const outbound = () => benchOutbound({ serverUrl: serverUrl(), rounds: ROUNDS, deliveries: Number(process.env.BENCH_OUTBOUND_DELIVERIES ?? 2000), concurrency: WORKER_CONCURRENCY });
  if (ONLY === 'outbound') return console.log('\n' + (await outbound()));
  const pgbench = spawnSync('pgbench', ['--version'], { encoding: 'utf8' });
  if (pgbench.error) throw new Error('pgbench is needed for the Postgres ceiling (Debian: apt-get install postgresql-client)');

  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  const dbName = `intake_bench_${process.pid}`;
  await admin.query(`create database ${dbName}`);
  const url = withDatabase(serverUrl(), dbName);
  const masterKey = randomBytes(32);
  const pool = createPool(url, 20);
  let receiver: ChildProcess | null = null;

  try {
    await migrateDatabase(url);
    const client = await pool.connect();
    const secrets: string[] = [];
    const webhookIds: string[] = [];
    try {
      await createTenant(client, { slug: 'bench', name: 'Bench' });
      for (let i = 0; i < WEBHOOKS; i++) {
        const hook = await createWebhook(client, masterKey, 'http://127.0.0.1', 'bench', {
          name: `Alerts ${i}`, slug: `alerts-${i}`, auth: { auth_type: 'hmac_sha256' }, rate_limit_per_minute: 0,
          handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: {
            title: 'commonLabels.alertname & " on " & commonLabels.instance',
            description: 'alerts[0].annotations.description',
            priority: 'commonLabels.severity',
          } },
        });
        webhookIds.push(hook.id);
        secrets.push(hook.secret!);
      }
    } finally {
      client.release();
    }
    await pool.query(`create table bench_ceiling (id uuid primary key default gen_random_uuid(), received_at timestamptz default now(), body jsonb)`);

    const body = JSON.stringify(JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'samples', 'alertmanager-alert.firing.json'), 'utf8')));
    // Each connection cycles through RECEIVER_WEBHOOKS webhooks, each request signed with its own secret.
    const requests: LoadRequest[] = secrets.slice(0, RECEIVER_WEBHOOKS).map((secret, i) => ({
      method: 'POST' as const,
      path: `/api/inbound/bench/alerts-${i}`,
      headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', secret).update(body).digest('hex') },
      body,
    }));

    interface ReceiverRun { connections: number; rates: number[]; p50s: number[]; p99s: number[]; ceilings: number[]; batch: number }
    const receiverRuns: ReceiverRun[] = [];
    let rss = 0;
    if (ONLY !== 'worker') {
      // ── receiver vs Postgres ceiling ──
      const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
      receiver = spawn(process.execPath, [...profile, path.join(PROJECT_ROOT, 'cli', 'intake.ts'), 'receiver'], {
        env: { ...process.env, DATABASE_URL: url, INTAKE_MASTER_KEY: masterKey.toString('base64'), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'error', REDIS_URL: '',
          // one load generator on one address: the per-address limit would measure itself
          INTAKE_SOURCE_RATE_LIMIT_PER_MINUTE: '0' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const [, port] = await waitForOutput(receiver, /listening on http:\/\/127\.0\.0\.1:(\d+)/, 30_000);
      const target = `http://127.0.0.1:${port}`;

      const scriptFile = path.join(os.tmpdir(), `intake-bench-${process.pid}.sql`);
      fs.writeFileSync(scriptFile, `insert into bench_ceiling (body) values ('${body.replaceAll("'", "''")}'::jsonb);\n`);

      for (const connections of CONNECTION_COUNTS) {
        const run: ReceiverRun = { connections, rates: [], p50s: [], p99s: [], ceilings: [], batch: 0 };
        for (let round = 1; round <= ROUNDS; round++) {
          // Each round starts from empty delivery and job tables, as with a worker that keeps up;
          // otherwise every round would measure a bigger backlog than the last.
          await pool.query(`delete from intake.inbound_webhook_deliveries; delete from graphile_worker._private_jobs`);
          await pool.query(`vacuum analyze intake.inbound_webhook_deliveries, graphile_worker._private_jobs`);
          const load = useWrk ? runWrk(target, requests, connections) : await runAutocannon(target, requests, connections);
          run.rates.push(load.rate);
          run.p50s.push(load.p50);
          run.p99s.push(load.p99);

          const bench = spawnSync('pgbench', ['-n', '-c', String(connections), '-j', '2', '-T', String(SECONDS), '-f', scriptFile, url], { encoding: 'utf8' });
          const tps = Number(bench.stdout.match(/tps = ([\d.]+)/)?.[1]);
          if (!Number.isFinite(tps)) throw new Error(`pgbench failed: ${bench.stderr || bench.stdout}`);
          run.ceilings.push(tps);
          process.stderr.write(`${connections} connections, round ${round}: receiver ${fmt(load.rate)} req/s, pgbench ${fmt(tps)} tx/s\n`);
        }
        // deliveries committed together share a transaction id: rows per xmin is the batch size (last round)
        run.batch = Number((await pool.query(`select count(*)::float / greatest(count(distinct xmin::text), 1) as b from intake.inbound_webhook_deliveries`)).rows[0].b);
        receiverRuns.push(run);
      }
      rss = peakRssMiB(receiver.pid!);
      receiver.kill('SIGTERM');
      receiver = null;
      fs.rmSync(scriptFile, { force: true });

    }

    const dispatchRates: number[] = [], jobRates: number[] = [], noopRates: number[] = [];
    if (ONLY !== 'receiver') {
      // ── worker vs graphile-worker no-op ──
      await pool.query(`delete from intake.inbound_webhook_deliveries; delete from graphile_worker._private_jobs; truncate psa.tickets cascade; truncate psa.tenant_counters`);
      const seed = async () =>
        pool.query(
          `select intake.receive_delivery(w.tenant, w.inbound_webhook_id, 'POST', '/bench', '{}', $1::jsonb, null, 'json', 'application/json', '127.0.0.1', 'bench', null, now())
             from generate_series(1, $2) i
             join lateral (select * from intake.inbound_webhooks where inbound_webhook_id = ($3::uuid[])[1 + i % $4]) w on true`,
          [body, JOBS, webhookIds, webhookIds.length],
        );
      for (let round = 1; round <= ROUNDS; round++) {
        await seed();
        const worker = await startWorker(pool, { concurrency: WORKER_CONCURRENCY, jsonataTimeoutMs: 1000 });
        const started = performance.now();
        dispatchRates.push(await timeUntilDrained(pool, `select count(*) as n from intake.inbound_webhook_deliveries where dispatch_status = 'pending'`, JOBS, started));
        // Dispatch jobs whose deliveries an earlier drain took end later, finding nothing to do.
        // They finish before the worker stops: left in the queue, they would slow the no-op
        // baseline's job fetches (and pile up round after round).
        jobRates.push(await timeUntilDrained(pool, `select count(*) as n from graphile_worker.jobs where task_identifier in ('dispatch_webhook', 'dispatch_delivery')`, JOBS, started));
        await worker.stop();
        const failed = await pendingCount(pool, `select count(*) as n from intake.inbound_webhook_deliveries where dispatch_status = 'failed'`);
        if (failed > 0) throw new Error(`${failed} deliveries failed during the worker benchmark`);

        await pool.query(`select graphile_worker.add_job('bench_noop', '{}'::json) from generate_series(1, $1)`, [JOBS]);
        const noop = await runWorker({ pgPool: pool, concurrency: WORKER_CONCURRENCY, noHandleSignals: true, taskList: { bench_noop: async () => {} }, logger: quiet });
        noopRates.push(await timeUntilDrained(pool, `select count(*) as n from graphile_worker.jobs where task_identifier = 'bench_noop'`, JOBS));
        await noop.stop();
        process.stderr.write(
          `round ${round}: dispatch ${fmt(dispatchRates.at(-1)!)} deliveries/s (all jobs done: ${fmt(jobRates.at(-1)!)}/s), no-op ${fmt(noopRates.at(-1)!)} jobs/s\n`,
        );
      }
    }
    const tickets = Number((await pool.query('select count(*) as n from psa.tickets')).rows[0].n);

    const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
    const d = median(dispatchRates), n = median(noopRates);
    const receiverReport =
      `receiver (signed hmac_sha256 POSTs to ${RECEIVER_WEBHOOKS} webhook(s), no rate limit; load from ${useWrk ? 'wrk' : 'autocannon'}; peak RSS ${fmt(rss)} MiB)\n` +
      receiverRuns.map((run) => {
        const r = median(run.rates), c = median(run.ceilings);
        return `  ${run.connections} connections
    accepted            ${fmt(r)} req/s   (rounds: ${run.rates.map((x) => fmt(x)).join(', ')})
    latency             p50 ${fmt(median(run.p50s), 1)} ms, p99 ${fmt(median(run.p99s), 1)} ms
    Postgres ceiling    ${fmt(c)} insert tx/s (pgbench, same connections; rounds: ${run.ceilings.map((x) => fmt(x)).join(', ')})
    ratio               ${fmt(r / c, 2)} of the ceiling (aim ≥ 0.50)
    mean batch          ${fmt(run.batch, 1)} requests per transaction
`;
      }).join('');
    const workerReport = `worker (createTicket over ${WEBHOOKS} webhooks)
  dispatched          ${fmt(d)} deliveries/s   (rounds: ${dispatchRates.map((x) => fmt(x)).join(', ')}; ${tickets} tickets made)
  all jobs done       ${fmt(median(jobRates))} deliveries/s   (rounds: ${jobRates.map((x) => fmt(x)).join(', ')}; till the last dispatch job has ended)
  no-op baseline      ${fmt(n)} jobs/s         (rounds: ${noopRates.map((x) => fmt(x)).join(', ')})
  ratio               ${fmt(d / n, 2)} of the no-op rate (aim ≥ 0.33)
`;
    console.log(`
Intake benchmark — ${new Date().toISOString()}
machine: ${os.cpus().length} × ${cpu}, ${fmt(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${(await pool.query('select version()')).rows[0].version.split(' on ')[0]}
medians of ${ROUNDS} rounds; ${SECONDS} s per round; ${JOBS} jobs per worker round; worker concurrency ${WORKER_CONCURRENCY}
\n` + (ONLY !== 'worker' ? receiverReport + '\n' : '') + (ONLY !== 'receiver' ? workerReport : ''));
  } finally {
    receiver?.kill('SIGKILL');
    await pool.end();
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
  if (ONLY === '') console.log(await outbound());
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
