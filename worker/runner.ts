// Runs graphile-worker with Intake's tasks on the shared pool.
import { Logger, run, type Runner } from 'graphile-worker';
import type pg from 'pg';
import { errorMessage, log } from '../core/log.ts';
import { dispatchDeliveryTask } from './tasks/dispatch_delivery.ts';
import { runWorkflowTask } from './tasks/run_workflow.ts';

export interface WorkerOptions {
  concurrency: number;
  jsonataTimeoutMs: number;
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
/** how soon after a queued job's completion an empty-handed worker counts as "the handover" */
const WAKE_WINDOW_MS = 250;
/** long enough for the finished job's release query to land */
const WAKE_DELAY_MS = 5;

export async function startWorker(pool: pg.Pool, options: WorkerOptions): Promise<Runner> {
  const afterCommit = process.env.INTAKE_FAULT_KILL_AFTER_DISPATCH_COMMIT === '1'
    ? () => process.kill(process.pid, 'SIGKILL') // tests only: die between commit and job completion
    : undefined;
  const runner = await run({
    pgPool: pool,
    concurrency: options.concurrency,
    noHandleSignals: true,
    pollInterval: POLL_INTERVAL_MS,
    logger: workerLogger,
    taskList: {
      dispatch_delivery: dispatchDeliveryTask(pool, { jsonataTimeoutMs: options.jsonataTimeoutMs, ...(afterCommit ? { afterCommit } : {}) }),
      run_workflow: runWorkflowTask(pool, { jsonataTimeoutMs: options.jsonataTimeoutMs }),
    },
  });
  wakeOnHandover(runner, pool);
  return runner;
}

/**
 * graphile-worker releases a finished job without waiting for that query and asks for the next
 * job at once; in a named queue the ask often finds the queue still locked by the job just
 * finished, and every worker would then sleep a whole pollInterval: a backlog on one webhook
 * would move one delivery per poll. So when a worker comes back empty-handed shortly after a
 * queued job finished, wake the workers (as add_job does) a moment later, once the release has
 * landed. Idle workers cause no wakes: there was no recent completion.
 */
export function wakeOnHandover(runner: Runner, pool: pg.Pool): void {
  let lastQueuedCompletion = 0;
  let wakeScheduled = false;
  runner.events.on('job:complete', ({ job }) => {
    if (job.job_queue_id != null) lastQueuedCompletion = Date.now();
  });
  runner.events.on('worker:getJob:empty', () => {
    if (wakeScheduled || Date.now() - lastQueuedCompletion > WAKE_WINDOW_MS) return;
    wakeScheduled = true;
    setTimeout(() => {
      wakeScheduled = false;
      pool.query(`select pg_notify('jobs:insert', '{"count":1}')`).catch((error) => {
        log.debug('could not wake the workers; the next poll will', { error: errorMessage(error) });
      });
    }, WAKE_DELAY_MS);
  });
}
