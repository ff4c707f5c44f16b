// Runs graphile-worker with Intake's tasks on the shared pool.
import { Logger, run, type Runner } from 'graphile-worker';
import type pg from 'pg';
import { log } from '../core/log.ts';
import { startLiveness } from './liveness.ts';
import { bulkReplayChunkTask } from './tasks/bulk_replay_chunk.ts';
import { dispatchDeliveryTask } from './tasks/dispatch_delivery.ts';
import { dispatchWebhookTask } from './tasks/dispatch_webhook.ts';
import { previewMappingTask } from './tasks/preview_mapping.ts';
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
    taskList: {
      dispatch_webhook: dispatchWebhookTask(pool, dispatchOptions),
      dispatch_delivery: dispatchDeliveryTask(pool, dispatchOptions),
      run_workflow: runWorkflowTask(pool, { jsonataTimeoutMs: options.jsonataTimeoutMs }),
      bulk_replay_chunk: bulkReplayChunkTask(pool),
      preview_mapping: previewMappingTask(pool, { jsonataTimeoutMs: options.jsonataTimeoutMs }),
    },
  }).catch(async (error: unknown) => {
    await liveness.stop();
    throw error;
  });
  void runner.promise.finally(() => liveness.stop()).catch(() => {});
  return runner;
}

