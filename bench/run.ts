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
import { cpuDuring, loadAverage, postgresPids, probeFsync } from './probes.ts';
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
// How many of them the receiver load is spread over, one measurement each. 1 is the worst case
// (one webhook's deliveries must commit in arrival order); an MSP's traffic comes from many.
const RECEIVER_WEBHOOK_COUNTS = (process.env.BENCH_RECEIVER_WEBHOOKS ?? '1,32').split(',').map(Number);
if (RECEIVER_WEBHOOK_COUNTS.some((n) => !Number.isInteger(n) || n < 1 || n > WEBHOOKS)) throw new Error(`BENCH_RECEIVER_WEBHOOKS must be a comma-separated list of integers from 1 to ${WEBHOOKS}`);
// The receiver's connections name themselves, so the bench can count its backends' CPU apart.
const RECEIVER_APP = 'intake-bench-receiver';
// CPU is counted over the round less this much at each end (start-up, and processes that end with it).
const CPU_WINDOW_MARGIN_MS = 300;
// BENCH_ONLY=receiver, worker or outbound runs one part (for profiling one side).
const ONLY = process.env.BENCH_ONLY ?? '';
// BENCH_RATE=N sends N requests/s in all instead of as many as the receiver answers (autocannon
// only): CPU per request, the figure that compares two versions on a busy machine.
const FIXED_RATE = Number(process.env.BENCH_RATE ?? 0);
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
  const result = await autocannon({ url, connections, duration: SECONDS, requests, ...(FIXED_RATE ? { overallRate: FIXED_RATE } : {}) });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`receiver answered ${result.non2xx} non-2xx and ${result.errors} errors`);
  return { rate: result['2xx'] / (result.duration || SECONDS), p50: result.latency.p50, p99: result.latency.p99 };
}

async function runWrk(url: string, requests: LoadRequest[], connections: number, onStart: (pid: number) => void): Promise<LoadResult> {
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
    const child = spawn('wrk', ['-t', '2', '-c', String(connections), '-d', `${SECONDS}s`, '--latency', '-s', script, url], { stdio: ['ignore', 'pipe', 'inherit'] });
    onStart(child.pid!);
    let out = '';
    child.stdout!.on('data', (chunk) => (out += chunk));
    await new Promise((resolve) => child.once('close', resolve));
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

/** pgbench's rate, and the CPU its backends and itself used while it ran. */
async function runPgbench(args: string[], database: string, pool: pg.Pool): Promise<{ tps: number; cpu: Record<string, number> }> {
  const child = spawn('pgbench', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));
  const cpu = cpuDuring(async () => {
    const pids = await postgresPids(pool, database, 'pgbench');
    return { 'pgbench backends': pids.mine, 'pgbench': [child.pid!] };
  }, CPU_WINDOW_MARGIN_MS, SECONDS * 1000 - CPU_WINDOW_MARGIN_MS);
  await new Promise((resolve) => child.once('close', resolve));
  const tps = Number(out.match(/tps = ([\d.]+)/)?.[1]);
  if (!Number.isFinite(tps)) throw new Error(`pgbench failed: ${err || out}`);
  return { tps, cpu: await cpu };
}

/** CPU per group in ms a request: "receiver backends 0.07, …" */
const cpuPerRequest = (cpu: Record<string, number>, rate: number) =>
  Object.entries(cpu).map(([group, cores]) => `${group} ${fmt((cores * 1000) / rate, 3)}`).join(', ');

/** CPU per group as shares of a core: "receiver backends 0.56, receiver process 0.50, …" */
const cpuText = (cpu: Record<string, number>) => Object.entries(cpu).map(([group, cores]) => `${group} ${fmt(cores, 2)}`).join(', ');

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
    // Each connection cycles through the webhooks of the round, each request signed with its own secret.
    const requestsFor = (webhooks: number): LoadRequest[] =>
      secrets.slice(0, webhooks).map((secret, i) => ({
        method: 'POST' as const,
        path: `/api/inbound/bench/alerts-${i}`,
        headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', secret).update(body).digest('hex') },
        body,
      }));

    // receive_deliveries' own time per call (pg_stat_user_functions), beside the batch cycle it is part of;
    // a superuser's setting: without it the figure is left out
    await pool.query(`alter database ${dbName} set track_functions = 'pl'`).catch(() => {});
    const fsync = probeFsync(url, 'bench_ceiling');
    await pool.query('truncate bench_ceiling');

    interface ReceiverRound {
      rate: number; p50: number; p99: number; ceiling: number; load: string;
      batch: number; cycleMs: number; executeMs: number | null;
      cpu: Record<string, number>; ceilingCpu: Record<string, number>;
    }
    interface ReceiverRun { connections: number; webhooks: number; rounds: ReceiverRound[] }
    const receiverRuns: ReceiverRun[] = [];
    let rss = 0;
    if (ONLY !== 'worker') {
      // ── receiver vs Postgres ceiling ──
      const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
      receiver = spawn(process.execPath, [...profile, path.join(PROJECT_ROOT, 'cli', 'intake.ts'), 'receiver'], {
        env: { ...process.env, DATABASE_URL: url, INTAKE_MASTER_KEY: masterKey.toString('base64'), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'error', REDIS_URL: '',
          // one load generator on one address: the per-address limit would measure itself
          INTAKE_SOURCE_RATE_LIMIT_PER_MINUTE: '0',
          // so that the receiver's backends can be told from the others (their CPU is counted apart)
          PGAPPNAME: RECEIVER_APP },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const receiverPid = receiver.pid!;
      const [, port] = await waitForOutput(receiver, /listening on http:\/\/127\.0\.0\.1:(\d+)/, 30_000);
      const target = `http://127.0.0.1:${port}`;

      const scriptFile = path.join(os.tmpdir(), `intake-bench-${process.pid}.sql`);
      fs.writeFileSync(scriptFile, `insert into bench_ceiling (body) values ('${body.replaceAll("'", "''")}'::jsonb);\n`);
      const functionStats = async () => {
        const { rows } = await pool.query<{ calls: string; total_time: number }>(
          `select calls, total_time from pg_stat_user_functions where schemaname = 'intake' and funcname = 'receive_deliveries'`,
        );
        return { calls: Number(rows[0]?.calls ?? 0), ms: Number(rows[0]?.total_time ?? 0) };
      };

      for (const webhooks of RECEIVER_WEBHOOK_COUNTS) {
        const requests = requestsFor(webhooks);
        for (const connections of CONNECTION_COUNTS) {
          const run: ReceiverRun = { connections, webhooks, rounds: [] };
          for (let round = 1; round <= ROUNDS; round++) {
            // Each round starts from empty delivery and job tables, as with a worker that keeps up;
            // otherwise every round would measure a bigger backlog than the last.
            await pool.query(`delete from intake.inbound_webhook_deliveries; delete from graphile_worker._private_jobs; truncate intake.inbound_webhook_delivery_bodies`);
            await pool.query(`vacuum analyze intake.inbound_webhook_deliveries, graphile_worker._private_jobs`);
            const loadAverageAtStart = loadAverage();
            const before = await functionStats();
            const startedAt = performance.now();
            let loadPid = process.pid; // autocannon runs in this process; wrk is a child
            const window = cpuDuring(async () => {
              const pids = await postgresPids(pool, dbName, RECEIVER_APP);
              return { 'receiver backends': pids.mine, 'other backends': pids.others, 'receiver process': [receiverPid], 'load generator': [loadPid] };
            }, CPU_WINDOW_MARGIN_MS, SECONDS * 1000 - CPU_WINDOW_MARGIN_MS);
            const load = useWrk ? await runWrk(target, requests, connections, (pid) => (loadPid = pid)) : await runAutocannon(target, requests, connections);
            const seconds = (performance.now() - startedAt) / 1000;
            const cpu = await window;
            // deliveries committed together share a transaction id: rows per xmin is the batch size
            const batches = (await pool.query(`select count(*)::float as rows, count(distinct xmin::text)::float as batches from intake.inbound_webhook_deliveries`)).rows[0];

            const ceilingRun = await runPgbench(['-n', '-c', String(connections), '-j', '2', '-T', String(SECONDS), '-f', scriptFile, url], dbName, pool);
            // the function's statistics reach pg_stat_user_functions within a second of its calls: read after pgbench
            const after = await functionStats();
            const calls = after.calls - before.calls;
            const r: ReceiverRound = {
              rate: load.rate, p50: load.p50, p99: load.p99, ceiling: ceilingRun.tps, load: loadAverageAtStart,
              batch: batches.rows / Math.max(1, batches.batches), cycleMs: (seconds * 1000) / Math.max(1, batches.batches),
              executeMs: calls > 0 ? (after.ms - before.ms) / calls : null,
              cpu, ceilingCpu: ceilingRun.cpu,
            };
            run.rounds.push(r);
            process.stderr.write(
              `${webhooks} webhook(s), ${connections} connections, round ${round} (load average ${r.load}): receiver ${fmt(r.rate)} req/s, pgbench ${fmt(r.ceiling)} tx/s; ` +
                `batch ${fmt(r.batch, 1)}, cycle ${fmt(r.cycleMs, 2)} ms; CPU ${cpuText(r.cpu)}; ms of CPU a request: ${cpuPerRequest(r.cpu, r.rate)}\n`,
            );
          }
          receiverRuns.push(run);
        }
      }
      rss = peakRssMiB(receiverPid);
      receiver.kill('SIGTERM');
      receiver = null;
      fs.rmSync(scriptFile, { force: true });
    }

    const dispatchRates: number[] = [], jobRates: number[] = [], noopRates: number[] = [];
    if (ONLY !== 'receiver') {
      // ── worker vs graphile-worker no-op ──
      await pool.query(`delete from intake.inbound_webhook_deliveries; delete from graphile_worker._private_jobs; truncate intake.inbound_webhook_delivery_bodies; truncate psa.tickets cascade; truncate psa.tenant_counters`);
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
    const medianOf = (rounds: ReceiverRound[], pick: (r: ReceiverRound) => number) => median(rounds.map(pick));
    const cpuMedians = (cpus: Record<string, number>[]) =>
      Object.fromEntries(Object.keys(cpus[0] ?? {}).map((group) => [group, median(cpus.map((c) => c[group] ?? 0))]));
    const receiverReport =
      `receiver (signed hmac_sha256 POSTs, no rate limit; load from ${useWrk ? 'wrk' : 'autocannon'}; peak RSS ${fmt(rss)} MiB)\n` +
      receiverRuns.map((run) => {
        const r = medianOf(run.rounds, (x) => x.rate), c = medianOf(run.rounds, (x) => x.ceiling);
        const execute = run.rounds.map((x) => x.executeMs).filter((x): x is number => x !== null);
        return `  ${run.connections} connections, ${run.webhooks} webhook(s)
    accepted            ${fmt(r)} req/s   (rounds: ${run.rounds.map((x) => fmt(x.rate)).join(', ')}; load average at each: ${run.rounds.map((x) => x.load.split(' ')[0]).join(', ')})
    latency             p50 ${fmt(medianOf(run.rounds, (x) => x.p50), 1)} ms, p99 ${fmt(medianOf(run.rounds, (x) => x.p99), 1)} ms
    Postgres ceiling    ${fmt(c)} insert tx/s (pgbench, same connections; rounds: ${run.rounds.map((x) => fmt(x.ceiling)).join(', ')})
    ratio               ${fmt(r / c, 2)} of the ceiling (rounds: ${run.rounds.map((x) => fmt(x.rate / x.ceiling, 2)).join(', ')}; aim ≥ 1.0)
    batches             ${fmt(medianOf(run.rounds, (x) => x.batch), 1)} requests each, one every ${fmt(medianOf(run.rounds, (x) => x.cycleMs), 2)} ms` +
          (execute.length ? `; receive_deliveries ${fmt(median(execute), 2)} ms a call` : '') + `
    CPU (cores)         ${cpuText(cpuMedians(run.rounds.map((x) => x.cpu)))}
    pgbench CPU         ${cpuText(cpuMedians(run.rounds.map((x) => x.ceilingCpu)))}
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
fsync: ${fsync.fdatasyncMs === null ? 'pg_test_fsync not found' : `pg_test_fsync fdatasync ${fmt(fsync.fdatasyncMs, 3)} ms`}; a one-row insert on one connection ${fmt(fsync.commitMs, 3)} ms, ${fmt(fsync.asyncCommitMs, 3)} ms with synchronous_commit off
load average (1, 5, 15 min) at the end: ${loadAverage()}
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
