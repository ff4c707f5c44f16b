// The process's Prometheus metrics (prom-client): one registry, every metric defined here, and a
// small named function per thing the code counts, so a call site is one line and never touches
// prom-client itself. Served at /metrics (server/runtime.ts). docs/operations.md says what each
// alert-worthy one means and what to do; docs/grafana-dashboard.json draws them.
//
// Labels stay low-cardinality: a fixed set of answers, reasons, actions and pool names; never a
// tenant, webhook id, slug or delivery id (those are in the log and the database).
import type pg from 'pg';
import client from 'prom-client';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry }); // process CPU, memory, event-loop lag, GC

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LATENCY = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600];

// --- receiving ---------------------------------------------------------------------------------

/** Why the inbound endpoint answered as it did: the fixed set of `reason` label values. */
export type InboundReason =
  | 'accepted' | 'duplicate' | 'recorded_failed' | 'malformed_path' | 'unauthorized' | 'method_not_allowed'
  | 'too_large' | 'unsupported_media_type' | 'bad_request' | 'source_rate_limited' | 'webhook_rate_limited'
  | 'bytes_in_flight' | 'database_unavailable' | 'other';

const inboundRequests = new client.Counter({
  name: 'intake_inbound_requests_total',
  help: 'Inbound webhook requests by HTTP status and reason (accepted, duplicate, 4xx by reason, 429, 503)',
  labelNames: ['status', 'reason'] as const,
  registers: [registry],
});

export function countInboundAnswer(status: number, reason: InboundReason): void {
  inboundRequests.inc({ status: String(status), reason });
}

const authFailures = new client.Counter({
  name: 'intake_inbound_auth_failures_total',
  help: 'Inbound requests refused with 401, by reason (unknown tenant or webhook, switched off, inactive, bad credentials by scheme)',
  labelNames: ['reason'] as const,
  registers: [registry],
});

/** `reason`: a RejectionKind of receiver/rejections.ts, or unknown_tenant / tenant_disabled. */
export function countAuthFailure(reason: string): void {
  authFailures.inc({ reason });
}

const batchSize = new client.Histogram({
  name: 'intake_receive_batch_size',
  help: 'Deliveries recorded per receiver transaction',
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000],
  registers: [registry],
});
const batchSeconds = new client.Histogram({
  name: 'intake_receive_batch_seconds',
  help: 'From a batch starting to execute to its commit (or failure), including its wait for the previous batch',
  labelNames: ['result'] as const,
  buckets: SECONDS,
  registers: [registry],
});

/** Observes one receiver batch of `size` items; returns `finished` unchanged. */
export function observeReceiveBatch<T>(size: number, finished: Promise<T>): Promise<T> {
  batchSize.observe(size);
  const end = batchSeconds.startTimer();
  finished.then(() => end({ result: 'ok' }), () => end({ result: 'error' }));
  return finished;
}

// --- dispatching -------------------------------------------------------------------------------

const dispatchOutcomes = new client.Counter({
  name: 'intake_dispatch_outcomes_total',
  help: 'Delivery dispatch outcomes by action (the handler: an action name, "workflow" or "unknown") and outcome',
  labelNames: ['action', 'outcome'] as const,
  registers: [registry],
});
const dispatchLatency = new client.Histogram({
  name: 'intake_dispatch_latency_seconds',
  help: 'From a delivery being received to it being dispatched (committed), in seconds',
  buckets: LATENCY,
  registers: [registry],
});

export type DispatchOutcome = 'dispatched' | 'failed' | 'retry';

/** One delivery's attempt; `receivedAt` (for 'dispatched') feeds the receive → dispatched histogram. */
export function countDispatch(action: string, outcome: DispatchOutcome, receivedAt?: Date | string): void {
  dispatchOutcomes.inc({ action, outcome });
  if (outcome === 'dispatched' && receivedAt !== undefined) {
    dispatchLatency.observe(Math.max(0, (Date.now() - new Date(receivedAt).getTime()) / 1000));
  }
}

const jsonataSeconds = new client.Histogram({
  name: 'intake_jsonata_evaluation_seconds',
  help: 'One JSONata evaluation on an expression thread (a mapping, an idempotency expression, a workflow expression), from the thread starting it',
  labelNames: ['result'] as const,
  buckets: SECONDS,
  registers: [registry],
});

/** The task with its settling timed from now: result ok, timeout (D1012) or error. */
export function timedEvaluation<T extends { resolve(value: never): void; reject(error: Error): void }>(task: T): T {
  const end = jsonataSeconds.startTimer();
  return {
    ...task,
    resolve: (value: never) => (end({ result: 'ok' }), task.resolve(value)),
    reject: (error: Error & { code?: string }) => (end({ result: error.code === 'D1012' ? 'timeout' : 'error' }), task.reject(error)),
  };
}

// --- outbound and retention (counted by the branches that build them) ---------------------------

const outboundAttempts = new client.Counter({
  name: 'intake_outbound_attempts_total',
  help: 'Outbound webhook delivery attempts by result (success, http_error, timeout, network_error, ...)',
  labelNames: ['result'] as const,
  registers: [registry],
});

export function countOutboundAttempt(result: string): void {
  outboundAttempts.inc({ result });
}

const retentionRuns = new client.Counter({
  name: 'intake_retention_runs_total',
  help: 'Retention runs (cron tasks) by kind (bodies, rejections, events, outbound_attempts, ...) and result (ok, error)',
  labelNames: ['kind', 'result'] as const,
  registers: [registry],
});
const retentionRows = new client.Counter({
  name: 'intake_retention_rows_total',
  help: 'Rows cut or deleted by retention, by kind',
  labelNames: ['kind'] as const,
  registers: [registry],
});
const retentionSeconds = new client.Histogram({
  name: 'intake_retention_run_seconds',
  help: 'How long one retention run took, by kind',
  labelNames: ['kind'] as const,
  buckets: [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
  registers: [registry],
});

function observeRetentionRun(kind: string, result: 'ok' | 'error', rows: number, seconds: number): void {
  retentionRuns.inc({ kind, result });
  if (rows > 0) retentionRows.inc({ kind }, rows);
  retentionSeconds.observe({ kind }, seconds);
}

/**
 * Runs one retention task's work, timed from start to end, and counts it: as ok with the rows
 * `rowsOf` reads off its result, or as an error (rethrown, for graphile-worker to retry).
 */
export async function observedRetentionRun<T>(kind: string, work: () => Promise<T>, rowsOf: (result: T) => number): Promise<T> {
  const started = performance.now();
  let result: T;
  try {
    result = await work();
  } catch (error) {
    observeRetentionRun(kind, 'error', 0, (performance.now() - started) / 1000);
    throw error;
  }
  observeRetentionRun(kind, 'ok', rowsOf(result), (performance.now() - started) / 1000);
  return result;
}

// --- Redis -------------------------------------------------------------------------------------

const redisErrors = new client.Counter({
  name: 'intake_redis_errors_total',
  help: 'Redis commands or connections that failed or timed out (rate limits then fail open, or closed if configured)',
  registers: [registry],
});

export function countRedisError(): void {
  redisErrors.inc();
}

// --- read at scrape time: pools, the backlog, the process's state --------------------------------

// What is watched, newest last. One process normally runs one runtime; where several run (tests),
// the newest still running is reported.
const watchedPools: { name: string; pool: pg.Pool }[] = [];
const backlogPools: pg.Pool[] = [];

function unwatcher<T>(list: T[], entry: T): () => void {
  list.push(entry);
  return () => {
    const at = list.lastIndexOf(entry);
    if (at !== -1) list.splice(at, 1);
  };
}

/** Reports the pool's connections and waiting clients as `pool="name"` until unwatched. */
export function watchPool(name: string, pool: pg.Pool): () => void {
  return unwatcher(watchedPools, { name, pool });
}

/** The newest watched pool of each name. */
function pools(): Map<string, pg.Pool> {
  return new Map(watchedPools.map(({ name, pool }) => [name, pool]));
}

new client.Gauge({
  name: 'intake_db_pool_connections',
  help: 'Connections of a process pool by state (active: checked out, idle) and the pool size (max)',
  labelNames: ['pool', 'state'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const [name, pool] of pools()) {
      this.set({ pool: name, state: 'active' }, pool.totalCount - pool.idleCount);
      this.set({ pool: name, state: 'idle' }, pool.idleCount);
      this.set({ pool: name, state: 'max' }, pool.options.max ?? 10);
    }
  },
});
new client.Gauge({
  name: 'intake_db_pool_waiting',
  help: 'Callers waiting for a connection of a process pool (above 0 for long: the pool is too small or the database slow)',
  labelNames: ['pool'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const [name, pool] of pools()) this.set({ pool: name }, pool.waitingCount);
  },
});

/** The database-wide backlog (pending deliveries, the oldest's age, ready jobs), read on each scrape. */
export function watchBacklog(pool: pg.Pool): () => void {
  return unwatcher(backlogPools, pool);
}

interface Backlog {
  pending: number;
  oldest: number | null;
  ready: number;
  locked: number;
  waiting: number;
}

let backlogRead: { pool: pg.Pool; at: number; promise: Promise<Backlog | null> } | null = null;

/**
 * One read of the backlog per scrape, shared by the gauges below (each collects on its own, in
 * turn). The deliveries through their partial index (deliveries_webhook_pending_idx); the job
 * table stays small (a job per webhook, not per delivery). Bounded in time, so a scrape never
 * hangs on a slow database; null when it could not be read.
 */
function readBacklog(): Promise<Backlog | null> {
  const pool = backlogPools.at(-1);
  if (!pool) return Promise.resolve(null);
  if (backlogRead && backlogRead.pool === pool && performance.now() - backlogRead.at < 1000) return backlogRead.promise;
  const promise = pool
    .query<Backlog>({
      query_timeout: 2000,
      text: `select
               (select count(*)::int from intake.inbound_webhook_deliveries where dispatch_status = 'pending') as pending,
               (select extract(epoch from now() - min(received_at))::float8 from intake.inbound_webhook_deliveries
                 where dispatch_status = 'pending') as oldest,
               count(*) filter (where locked_at is null and run_at <= now() and attempts < max_attempts)::int as ready,
               count(*) filter (where locked_at is not null)::int as locked,
               count(*) filter (where locked_at is null and run_at > now() and attempts < max_attempts)::int as waiting
          from graphile_worker._private_jobs`,
    } as pg.QueryConfig)
    .then((result) => result.rows[0] ?? null, () => null);
  backlogRead = { pool, at: performance.now(), promise };
  return promise;
}

new client.Gauge({
  name: 'intake_database_up',
  help: '1 when the scrape could read the backlog from the database, 0 when it could not',
  registers: [registry],
  async collect() {
    if (backlogPools.length > 0) this.set((await readBacklog()) ? 1 : 0);
  },
});
new client.Gauge({
  name: 'intake_deliveries_pending',
  help: 'Deliveries recorded and not yet dispatched or failed (database-wide; every process reports the same)',
  registers: [registry],
  async collect() {
    const backlog = await readBacklog();
    if (backlog) this.set(backlog.pending);
  },
});
new client.Gauge({
  name: 'intake_deliveries_oldest_pending_seconds',
  help: 'Age of the oldest pending delivery, in seconds (0 when none is pending)',
  registers: [registry],
  async collect() {
    const backlog = await readBacklog();
    if (backlog) this.set(Math.max(0, backlog.oldest ?? 0));
  },
});
new client.Gauge({
  name: 'intake_jobs',
  help: 'graphile-worker jobs by state: ready (due, not locked), locked (running), waiting (run_at in the future: a backoff or a delay)',
  labelNames: ['state'] as const,
  registers: [registry],
  async collect() {
    const backlog = await readBacklog();
    if (!backlog) return;
    this.set({ state: 'ready' }, backlog.ready);
    this.set({ state: 'locked' }, backlog.locked);
    this.set({ state: 'waiting' }, backlog.waiting);
  },
});

const readinessChecks: (() => Promise<{ ready: boolean }>)[] = [];

/** Reports the runtime's readiness (what /readyz answers) as intake_ready on each scrape. */
export function watchReadiness(check: () => Promise<{ ready: boolean }>): () => void {
  return unwatcher(readinessChecks, check);
}

new client.Gauge({
  name: 'intake_ready',
  help: '1 while the process would answer /readyz with 200 (database reachable, migrations current, worker running, not shutting down), 0 otherwise',
  registers: [registry],
  async collect() {
    const check = readinessChecks.at(-1);
    if (check) this.set((await check().catch(() => ({ ready: false }))).ready ? 1 : 0);
  },
});

const workerRestarts = new client.Counter({
  name: 'intake_worker_restarts_total',
  help: 'Times the job runner stopped on its own (a database outage) and was started again',
  registers: [registry],
});

export function countWorkerRestart(): void {
  workerRestarts.inc();
}

/** The text Prometheus scrapes, and its content type. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
