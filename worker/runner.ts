// Runs graphile-worker with Intake's tasks on the shared pool.
import { setTimeout as sleep } from 'node:timers/promises';
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
  // graphile-worker releases a finished job without waiting for that query and asks for the next
  // job at once; in a named queue the ask usually finds the queue still locked by the job just
  // finished, and every worker then sleeps a whole pollInterval. A backlog on one webhook would
  // move one delivery per poll. Once the release has landed, wake a worker the way add_job does.
  runner.events.on('job:complete', ({ job }) => {
    if (job.job_queue_id != null) void wakeAfterRelease(pool, job.id);
  });
  return runner;
}

async function wakeAfterRelease(pool: pg.Pool, jobId: string): Promise<void> {
  try {
    for (let i = 0; i < 40; i++) {
      const { rowCount } = await pool.query(
        `select pg_notify('jobs:insert', '{"count":1}')
          where not exists (select 1 from graphile_worker.jobs where id = $1 and locked_at is not null)`,
        [jobId],
      );
      if (rowCount) return;
      await sleep(5);
    }
  } catch (error) {
    log.debug('could not wake a worker after a job; the next poll will', { error: errorMessage(error) });
  }
}
