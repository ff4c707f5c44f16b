// Runs graphile-worker with Intake's tasks on the shared pool, and keeps it running through a
// database outage.
//
// graphile-worker ends its runner when it cannot record a job's completion or failure (the
// database went away mid-job): with its default unbatched completions that was an unhandled
// rejection, which ended the whole process (`intake worker` exited 1, "the database system is
// shutting down"). Batched completions (a delay of 0: the same statements, sent on the next tick)
// route that failure to graphile-worker's own handler, which shuts the runner down cleanly; the
// supervisor below then starts a new runner once the database answers again (backing off up to
// RESTART_MAX_DELAY_MS). The jobs the old runner held are unlocked by the liveness sweep (its
// worker ids no longer hold their advisory locks) and run again: a drain re-checks what is pending.
import { Logger, run, type Runner } from 'graphile-worker';
import type pg from 'pg';
import { errorMessage, log } from '../core/log.ts';
import { countWorkerRestart } from '../core/metrics.ts';
import { startLiveness } from './liveness.ts';
import { bulkReplayChunkTask } from './tasks/bulk_replay_chunk.ts';
import { dispatchDeliveryTask } from './tasks/dispatch_delivery.ts';
import { dispatchWebhookTask } from './tasks/dispatch_webhook.ts';
import { runWorkflowTask } from './tasks/run_workflow.ts';

export interface WorkerOptions {
  concurrency: number;
  jsonataTimeoutMs: number;
}

/** The running worker: graphile-worker's runner, restarted by a supervisor when it ends on its own. */
export interface Worker {
  /** true while a runner is up (false while the supervisor waits for the database, and after stop) */
  running(): boolean;
  /** Stops taking jobs, lets running ones finish (graphile-worker releases what it cannot finish), and ends. */
  stop(): Promise<void>;
}

// graphile-worker's meta can hold whole pg clients; only the error's message is worth a line.
const workerLogger = new Logger(() => (level, message, meta) => {
  const error = (meta as { error?: unknown } | undefined)?.error;
  const fields = error instanceof Error ? { error: error.message } : undefined;
  if (level === 'error') log.error(message, fields);
  else if (level === 'warning') log.warn(message, fields);
  else log.debug(message, fields);
});

const POLL_INTERVAL_MS = 2000;
export const RESTART_MIN_DELAY_MS = 500;
export const RESTART_MAX_DELAY_MS = 10_000;

async function startRunner(pool: pg.Pool, options: WorkerOptions): Promise<Runner> {
  const afterCommit = process.env.INTAKE_FAULT_KILL_AFTER_DISPATCH_COMMIT === '1'
    ? () => process.kill(process.pid, 'SIGKILL') // tests only: die between commit and job completion
    : undefined;
  const dispatchOptions = { jsonataTimeoutMs: options.jsonataTimeoutMs, ...(afterCommit ? { afterCommit } : {}) };
  // Jobs of workers that died are run again within seconds, not after graphile-worker's 4 h.
  const liveness = await startLiveness(pool.options.connectionString ?? '');
  const runner = await run({
    pgPool: pool,
    events: liveness.events,
    concurrency: options.concurrency,
    noHandleSignals: true,
    pollInterval: POLL_INTERVAL_MS,
    logger: workerLogger,
    // See the top of the file: a completion that cannot be recorded ends the runner, not the process.
    preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    taskList: {
      dispatch_webhook: dispatchWebhookTask(pool, dispatchOptions),
      dispatch_delivery: dispatchDeliveryTask(pool, dispatchOptions),
      run_workflow: runWorkflowTask(pool, { jsonataTimeoutMs: options.jsonataTimeoutMs }),
      bulk_replay_chunk: bulkReplayChunkTask(pool),
    },
  }).catch(async (error: unknown) => {
    await liveness.stop();
    throw error;
  });
  void runner.promise.finally(() => liveness.stop()).catch(() => {});
  return runner;
}

/** Starts the worker (failing if the database cannot be reached now); from then on it rides out outages. */
export async function startWorker(pool: pg.Pool, options: WorkerOptions): Promise<Worker> {
  let current: Runner | null = await startRunner(pool, options);
  let stopping = false;
  let wake: (() => void) | null = null;
  let restarting: Promise<void> | null = null;

  const watch = (runner: Runner) => {
    const ended = (error?: unknown) => {
      if (stopping || current !== runner) return;
      current = null;
      countWorkerRestart();
      log.error('the job runner stopped on its own; starting a new one once the database answers', error === undefined ? undefined : { error: errorMessage(error) });
      restarting = restart().finally(() => (restarting = null));
    };
    runner.promise.then(() => ended(), ended);
  };

  const restart = async () => {
    for (let delay = RESTART_MIN_DELAY_MS; !stopping; delay = Math.min(delay * 2, RESTART_MAX_DELAY_MS)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => (clearTimeout(timer), resolve());
      });
      wake = null;
      if (stopping) return;
      try {
        const runner = await startRunner(pool, options);
        if (stopping) {
          await runner.stop();
          return;
        }
        current = runner;
        watch(runner);
        log.info('the job runner is running again');
        return;
      } catch (error) {
        log.warn('the job runner could not start yet; trying again', { error: errorMessage(error), retry_in_ms: Math.min(delay * 2, RESTART_MAX_DELAY_MS) });
      }
    }
  };

  watch(current);
  return {
    running: () => current !== null && !stopping,
    async stop() {
      stopping = true;
      wake?.();
      await restarting;
      const runner = current;
      current = null;
      await runner?.stop();
    },
  };
}
