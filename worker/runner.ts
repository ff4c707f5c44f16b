// Runs graphile-worker with Intake's tasks on the shared pool, and keeps it running through a
// database outage.
//
// graphile-worker ends its runner when it cannot record a job's completion or failure (the
// database went away mid-job): with its default unbatched completions that was an unhandled
// rejection, which ended the whole process (`intake worker` exited 1, "the database system is
// shutting down"). Batched completions (a delay of 0: the same statements, sent on the next tick)
// route that failure to graphile-worker's own handler, which starts shutting the runner down; that
// shutdown need not finish while the database is gone, so its start is the signal. The supervisor
// below then waits for the database to answer (backing off up to RESTART_MAX_DELAY_MS), gives the
// old runner RETIRE_TIMEOUT_MS to end, drops its liveness connection and starts a new runner. The
// jobs the old runner held are unlocked by the liveness sweep (its worker ids no longer hold
// their advisory locks) and run again: a drain re-checks what is pending.
import { Logger, run, type Runner } from 'graphile-worker';
import type pg from 'pg';
import { errorMessage, log } from '../core/log.ts';
import { countWorkerRestart } from '../core/metrics.ts';
import { startLiveness } from './liveness.ts';
import { bulkReplayChunkTask } from './tasks/bulk_replay_chunk.ts';
import { dispatchDeliveryTask } from './tasks/dispatch_delivery.ts';
import { dispatchWebhookTask } from './tasks/dispatch_webhook.ts';
import { previewMappingTask } from './tasks/preview_mapping.ts';
import { pruneAuthRejectionsTask } from './tasks/prune_auth_rejections.ts';
import { BODY_CRONTAB, makeBodyPartitionsTask, pruneBodiesTask } from './tasks/body_retention.ts';
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
  /** INTAKE_REJECTION_RETENTION_DAYS (default 7) */
  rejectionRetentionDays?: number;
  /** INTAKE_BODY_RETENTION_DAYS (default 30) */
  bodyRetentionDays?: number;
  /** outbound webhooks: without it (benchmarks of the inbound path) no outbound task runs and no sweeper */
  outbound?: OutboundWorkerOptions;
}

/** The running worker: graphile-worker's runner, restarted by a supervisor when it ends on its own. */
export interface Worker {
  /** true while a runner is up (false while the supervisor waits for the database, and after stop) */
  running(): boolean;
  /** Stops taking jobs, lets running ones finish (graphile-worker releases what it cannot finish), and ends. */
  stop(): Promise<void>;
}

// Retention, as graphile-worker cron items: each tick is one job for all workers together
// (graphile-worker's known_crontabs), and a tick missed while no worker ran is not made up
// (the next one finds the same rows). jobKey: at most one queued run at a time.
const CRONTAB = `*/10 * * * * prune_auth_rejections ?jobKey=prune_auth_rejections&max=3\n${BODY_CRONTAB}`;

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

interface Generation {
  runner: Runner;
  stopLiveness(): Promise<void>;
}

/**
 * One graphile-worker runner with its liveness connection. `goingDown` is called (once, or more:
 * the caller keeps it idempotent) when the runner starts shutting down or has ended by itself.
 */
async function startRunner(pool: pg.Pool, options: WorkerOptions, goingDown: (error?: unknown) => void): Promise<Generation> {
  const afterCommit = process.env.INTAKE_FAULT_KILL_AFTER_DISPATCH_COMMIT === '1'
    ? () => process.kill(process.pid, 'SIGKILL') // tests only: die between commit and job completion
    : undefined;
  const dispatchOptions = { jsonataTimeoutMs: options.jsonataTimeoutMs, ...(afterCommit ? { afterCommit } : {}) };
  // Jobs of workers that died are run again within seconds, not after graphile-worker's 4 h.
  const liveness = await startLiveness(pool.options.connectionString ?? '');
  // graphile-worker starts a shutdown of its own when it cannot record a job's outcome; its
  // runner may then take long to end (or not end while the database is gone), so the shutdown's
  // start is the signal, not the runner's end.
  liveness.events.on('pool:gracefulShutdown', ({ message }) => goingDown(message));
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
    // See the top of the file: a completion that cannot be recorded ends the runner, not the process.
    preset: { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    crontab: outbound ? `${CRONTAB}\n${PRUNE_CRONTAB}` : CRONTAB,
    taskList: {
      dispatch_webhook: dispatchWebhookTask(pool, dispatchOptions),
      dispatch_delivery: dispatchDeliveryTask(pool, dispatchOptions),
      run_workflow: runWorkflowTask(pool, { jsonataTimeoutMs: options.jsonataTimeoutMs }),
      bulk_replay_chunk: bulkReplayChunkTask(pool),
      preview_mapping: previewMappingTask(pool, { jsonataTimeoutMs: options.jsonataTimeoutMs }),
      prune_auth_rejections: pruneAuthRejectionsTask(pool, options.rejectionRetentionDays ?? 7),
      prune_bodies: pruneBodiesTask(pool, options.bodyRetentionDays ?? 30),
      make_body_partitions: makeBodyPartitionsTask(pool),
      ...outboundTasks,
    },
  }).catch(async (error: unknown) => {
    await liveness.stop();
    await agent?.close();
    throw error;
  });
  // Events are written by triggers, which may not add jobs: the sweeper adds their fan-out jobs.
  const sweeper = outbound ? startOutboundSweeper(pool, outbound.sweepIntervalMs) : null;
  if (sweeper) {
    // the sweeper stops first, so that none of its queries outlives the pool the caller ends next
    const stopRunner = runner.stop.bind(runner);
    runner.stop = async (...args: Parameters<Runner['stop']>) => {
      await sweeper.stop();
      return stopRunner(...args);
    };
  }
  void runner.promise.finally(async () => {
    await sweeper?.stop();
    await agent?.close();
    await liveness.stop();
  }).then(() => goingDown(), goingDown);
  return { runner, stopLiveness: () => liveness.stop() };
}

/** How long a runner that went down by itself is given to end before it is abandoned. */
const RETIRE_TIMEOUT_MS = 5000;

/** Starts the worker (failing if the database cannot be reached now); from then on it rides out outages. */
export async function startWorker(pool: pg.Pool, options: WorkerOptions): Promise<Worker> {
  let current: Generation | null = null;
  let stopping = false;
  let wake: (() => void) | null = null;
  let restarting: Promise<void> | null = null;

  const launch = async (): Promise<Generation> => {
    let generation: Generation | null = null;
    let down = false;
    generation = await startRunner(pool, options, (error?: unknown) => {
      if (down || stopping) return;
      down = true;
      // before startRunner returned: it was never current, and the caller's catch retries
      if (generation === null || current !== generation) return;
      const old = generation;
      current = null;
      countWorkerRestart();
      log.error('the job runner stopped on its own; starting a new one once the database answers',
        error === undefined ? undefined : { error: errorMessage(error) });
      restarting = restart(old).finally(() => (restarting = null));
    });
    if (down) {
      await generation.runner.stop().catch(() => {});
      await generation.stopLiveness();
      throw new Error('the job runner went down as it started');
    }
    return generation;
  };

  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => (clearTimeout(timer), resolve());
  }).finally(() => (wake = null));

  /** Lets the old runner end (or abandons it), then starts a new one once the database answers. */
  const restart = async (old: Generation) => {
    let retired = false;
    for (let delay = RESTART_MIN_DELAY_MS; !stopping; delay = Math.min(delay * 2, RESTART_MAX_DELAY_MS)) {
      await sleep(delay);
      if (stopping) break;
      try {
        await pool.query('select 1');
        if (!retired) {
          // Its jobs are unlocked by the next liveness sweep once its liveness connection is gone.
          await Promise.race([old.runner.stop().catch(() => {}), new Promise((resolve) => setTimeout(resolve, RETIRE_TIMEOUT_MS))]);
          await old.stopLiveness();
          retired = true;
        }
        const next = await launch();
        if (stopping) {
          await next.runner.stop().catch(() => {});
          break;
        }
        current = next;
        log.info('the job runner is running again');
        return;
      } catch (error) {
        log.warn('the job runner could not start yet; trying again', { error: errorMessage(error), retry_in_ms: Math.min(delay * 2, RESTART_MAX_DELAY_MS) });
      }
    }
    if (!retired) await old.stopLiveness();
  };

  current = await launch();
  return {
    running: () => current !== null && !stopping,
    async stop() {
      stopping = true;
      wake?.();
      await restarting;
      const generation = current;
      current = null;
      await generation?.runner.stop();
    },
  };
}
