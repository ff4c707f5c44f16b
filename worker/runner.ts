// Runs graphile-worker with Intake's tasks on the shared pool.
import { Logger, run, type Runner } from 'graphile-worker';
import type pg from 'pg';
import { log } from '../core/log.ts';
import { startLiveness } from './liveness.ts';
import { bulkReplayChunkTask } from './tasks/bulk_replay_chunk.ts';
import { dispatchDeliveryTask } from './tasks/dispatch_delivery.ts';
import { dispatchWebhookTask } from './tasks/dispatch_webhook.ts';
import { runWorkflowTask } from './tasks/run_workflow.ts';
import { outboundDeliverTask } from './tasks/outbound_deliver.ts';
import { outboundFanoutTask } from './tasks/outbound_fanout.ts';
import { outboundPruneTask, PRUNE_CRONTAB, type OutboundRetention } from './tasks/outbound_prune.ts';
import { outboundRecoveryChunkTask } from './tasks/outbound_recovery_chunk.ts';
import { startOutboundSweeper } from './outbound/sweeper.ts';
import { guardedAgent, type Cidr } from '../core/outboundAddress.ts';

export interface OutboundWorkerOptions extends OutboundRetention {
  masterKey: Buffer;
  allowHttp: boolean;
  allowCidrs: readonly Cidr[];
  timeoutMs: number;
  disableAfterHours: number;
  sweepIntervalMs: number;
}

export interface WorkerOptions {
  concurrency: number;
  jsonataTimeoutMs: number;
  /** outbound webhooks: without it (benchmarks of the inbound path) no outbound task runs and no sweeper */
  outbound?: OutboundWorkerOptions;
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
  const outbound = options.outbound;
  const agent = outbound ? guardedAgent(outbound.allowCidrs) : null;
  const outboundTasks = outbound && agent ? {
    outbound_fanout: outboundFanoutTask(pool),
    outbound_deliver: outboundDeliverTask(pool, { ...outbound, agent }),
    outbound_recovery_chunk: outboundRecoveryChunkTask(pool),
    outbound_prune: outboundPruneTask(pool, outbound),
  } : {};
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
      ...outboundTasks,
    },
    ...(outbound ? { crontab: PRUNE_CRONTAB } : {}),
  }).catch(async (error: unknown) => {
    await liveness.stop();
    await agent?.close();
    throw error;
  });
  // Events are written by triggers, which may not add jobs: the sweeper adds their fan-out jobs.
  const sweeper = outbound ? startOutboundSweeper(pool, outbound.sweepIntervalMs) : null;
  void runner.promise.finally(async () => {
    await sweeper?.stop();
    await agent?.close();
    await liveness.stop();
  }).catch(() => {});
  if (sweeper) {
    // the sweeper stops first, so that none of its queries outlives the pool the caller ends next
    const stopRunner = runner.stop.bind(runner);
    runner.stop = async (...args: Parameters<Runner['stop']>) => {
      await sweeper.stop();
      return stopRunner(...args);
    };
  }
  return runner;
}

