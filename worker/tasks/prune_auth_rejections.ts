// Task prune_auth_rejections (cron, every 10 minutes; no payload): auth rejections are kept
// INTAKE_REJECTION_RETENTION_DAYS after their last repeat. Deletes them in batches of
// PRUNE_BATCH, each its own short transaction (intake_private.prune_auth_rejections), at most
// PRUNE_MAX_BATCHES a run, so a run never holds a lock for long and a backlog (a flood, or a
// shortened retention) is worked off over a few runs. Logs what it did.
import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { log } from '../../core/log.ts';
import { observedRetentionRun } from '../../core/metrics.ts';

export const PRUNE_BATCH = 1000;
export const PRUNE_MAX_BATCHES = 100;

export interface PruneResult {
  deleted: number;
  batches: number;
  /** true when the run stopped at PRUNE_MAX_BATCHES with rows still past the retention */
  more: boolean;
  ms: number;
}

/** What the task does, callable from tests. */
export async function pruneAuthRejections(pool: pg.Pool, retentionDays: number, batch = PRUNE_BATCH, maxBatches = PRUNE_MAX_BATCHES): Promise<PruneResult> {
  const started = performance.now();
  let deleted = 0, batches = 0, last = batch;
  while (batches < maxBatches && last === batch) {
    const { rows } = await pool.query<{ n: number }>('select intake_private.prune_auth_rejections($1, $2) as n', [retentionDays, batch]);
    last = rows[0]!.n;
    deleted += last;
    batches++;
  }
  return { deleted, batches, more: last === batch, ms: Math.round(performance.now() - started) };
}

export function pruneAuthRejectionsTask(pool: pg.Pool, retentionDays: number): Task {
  return async () => {
    const result = await observedRetentionRun('rejections', () => pruneAuthRejections(pool, retentionDays), (r) => r.deleted);
    log.info('retention: auth rejections pruned', {
      deleted: result.deleted, batches: result.batches, more: result.more, ms: result.ms, retention_days: retentionDays,
    });
  };
}
