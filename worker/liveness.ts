// Jobs of a worker that died: graphile-worker unlocks a job whose worker vanished (kill -9, a lost
// host) only once its lock is 4 hours old, and meanwhile a delivery whose retry job it held is
// neither retried nor taken by its webhook's drains (which pass retried deliveries by).
//
// So each worker process says it is alive: for every graphile-worker worker it runs, it holds a
// session advisory lock named after the worker id, on a connection of its own that stays open
// while the process lives (Postgres releases the lock when that connection ends, however the
// process ended). Every live process sweeps: a job locked for more than STALE_AFTER_MS by a
// worker id whose advisory lock nobody holds is unlocked (graphile_worker.force_unlock_workers)
// and runs again at once. A re-run is safe: a drain re-checks under its lock what is pending.
// If a live process merely loses its liveness connection, its jobs may be run a second time,
// which is as safe, and it takes its locks again when it reconnects.
import { EventEmitter } from 'node:events';
import type { WorkerEvents } from 'graphile-worker';
import pg from 'pg';
import { errorMessage, log } from '../core/log.ts';

/** A job locked for longer than this is looked at (its worker has registered by then). */
export const STALE_AFTER_MS = 5_000;
/** How often a live process looks for jobs of dead workers (also once at start). */
export const SWEEP_INTERVAL_MS = 10_000;

const lockName = (workerId: string) => `intake-worker:${workerId}`;

export interface Liveness {
  /** pass to graphile-worker's run({ events }) */
  events: WorkerEvents;
  stop(): Promise<void>;
}

export async function startLiveness(connectionString: string): Promise<Liveness> {
  const events: WorkerEvents = new EventEmitter();
  const ours = new Set<string>();
  let client: pg.Client | null = null;
  let stopped = false;
  let sweeping: Promise<void> | null = null;

  const connect = async (): Promise<pg.Client> => {
    const next = new pg.Client({ connectionString, keepAlive: true, keepAliveInitialDelayMillis: 10_000, connectionTimeoutMillis: 10_000 });
    next.on('error', (error) => {
      if (client === next) client = null;
      log.warn('worker liveness connection lost; reconnecting', { error: errorMessage(error) });
    });
    await next.connect();
    for (const id of ours) await next.query('select pg_advisory_lock(hashtextextended($1, 0))', [lockName(id)]);
    return next;
  };
  // One use of the connection at a time: graphile-worker creates its workers together, and a pg
  // client given a query while another runs only queues it (deprecated; an error in pg 9).
  let queue: Promise<unknown> = Promise.resolve();
  const withClient = <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const run = queue.then(async () => {
      if (stopped) throw new Error('worker liveness has stopped'); // never reconnect after stop()
      client ??= await connect();
      return fn(client);
    });
    queue = run.catch(() => {});
    return run;
  };

  events.on('worker:create', ({ worker }) => {
    ours.add(worker.workerId);
    void withClient((c) => c.query('select pg_advisory_lock(hashtextextended($1, 0))', [lockName(worker.workerId)])).catch(() => {});
  });
  events.on('worker:stop', ({ worker }) => {
    ours.delete(worker.workerId);
    void withClient((c) => c.query('select pg_advisory_unlock(hashtextextended($1, 0))', [lockName(worker.workerId)])).catch(() => {});
  });

  const sweep = async () => {
    await withClient(async (c) => {
      const { rows } = await c.query<{ locked_by: string }>(
        `select distinct locked_by from graphile_worker._private_jobs
          where locked_at < now() - make_interval(secs => $1::float8 / 1000) and locked_by is not null`,
        [STALE_AFTER_MS],
      );
      const dead: string[] = [];
      for (const { locked_by: id } of rows) {
        if (ours.has(id)) continue; // ours is alive (and our session's try-lock would succeed)
        const { rows: probe } = await c.query<{ free: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as free', [lockName(id)]);
        if (!probe[0]?.free) continue;
        await c.query('select pg_advisory_unlock(hashtextextended($1, 0))', [lockName(id)]);
        dead.push(id);
      }
      if (dead.length === 0) return;
      await c.query('select graphile_worker.force_unlock_workers($1::text[])', [dead]);
      log.warn('unlocked the jobs of workers that are gone', { workers: dead.join(', ') });
    });
  };
  const runSweep = () => {
    if (stopped || sweeping) return;
    sweeping = sweep()
      .catch((error) => log.warn('sweep for jobs of dead workers failed', { error: errorMessage(error) }))
      .finally(() => (sweeping = null));
  };

  client = await connect();
  const timer = setInterval(runSweep, SWEEP_INTERVAL_MS);
  timer.unref();
  // The first sweep waits until this process's own workers have registered.
  const first = setTimeout(runSweep, 1000);
  first.unref();

  return {
    events,
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(first);
      await sweeping;
      await queue;
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
