// Body retention (docs/operations.md "Retention"): a delivery's request body and headers are kept
// INTAKE_BODY_RETENTION_DAYS (default 30), in intake.inbound_webhook_delivery_bodies, one
// partition per UTC day; the delivery row keeps its status, outcome, idempotency key (dedupe holds
// across the cut), replay digest, and the body's size, SHA-256 and head.
//
// Two graphile-worker cron tasks, each one job for all workers together:
// - make_body_partitions (daily, and at `intake migrate`): the day partitions a week ahead, so a
//   receive never lands in the DEFAULT partition (the safety net) for want of one;
// - prune_bodies (every 10 minutes): drops whole day partitions past the retention (one drop per
//   transaction, each lock bounded by lock_timeout), then, in bounded batches of short
//   transactions, deletes old rows the default partition caught and cuts in place the bodies of
//   deliveries recorded before bodies moved apart (migration 000015). A run does at most
//   MAX_BATCHES batches; the next run goes on. Both log a line and feed the retention metrics.
import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { log } from '../../core/log.ts';
import { observedRetentionRun } from '../../core/metrics.ts';

/** Days of partitions made ahead of today. */
export const BODY_PARTITIONS_AHEAD = 7;
export const BODY_BATCH = 1000;
export const BODY_MAX_BATCHES = 100;
/** Partitions dropped at most in one run (a retention shortened by a lot is worked off over runs). */
export const BODY_MAX_DROPS = 60;

export const BODY_CRONTAB = [
  '5 0 * * * make_body_partitions ?fill=1d&jobKey=make_body_partitions&max=3',
  '*/10 * * * * prune_bodies ?jobKey=prune_bodies&max=3',
].join('\n');

export async function makeBodyPartitions(db: pg.Pool | pg.ClientBase, daysAhead = BODY_PARTITIONS_AHEAD): Promise<number> {
  const { rows } = await db.query<{ n: number }>('select intake_private.make_body_partitions($1) as n', [daysAhead]);
  return rows[0]!.n;
}

export interface BodyPruneResult {
  /** the day partitions dropped */
  partitions: string[];
  /** their rows (the planner's estimate: counting them would read them) */
  partitionRows: number;
  /** rows deleted from the default partition */
  defaultRows: number;
  /** legacy deliveries cut in place */
  legacyRows: number;
  batches: number;
  /** true when the run stopped at its bounds with work left */
  more: boolean;
  ms: number;
}

/** What prune_bodies does, callable from tests. */
export async function pruneBodies(pool: pg.Pool, retentionDays: number, batch = BODY_BATCH, maxBatches = BODY_MAX_BATCHES): Promise<BodyPruneResult> {
  const started = performance.now();
  const result: BodyPruneResult = { partitions: [], partitionRows: 0, defaultRows: 0, legacyRows: 0, batches: 0, more: false, ms: 0 };
  for (let i = 0; i < BODY_MAX_DROPS; i++) {
    const { rows } = await pool.query<{ name: string | null }>('select intake_private.drop_body_partition($1) as name', [retentionDays]);
    const name = rows[0]!.name;
    if (name === null) break;
    result.partitions.push(name);
    if (i === BODY_MAX_DROPS - 1) result.more = true;
  }
  for (const [fn, key] of [['prune_default_bodies', 'defaultRows'], ['cut_legacy_bodies', 'legacyRows']] as const) {
    let last = batch;
    while (result.batches < maxBatches && last === batch) {
      const { rows } = await pool.query<{ n: number }>(`select intake_private.${fn}($1, $2) as n`, [retentionDays, batch]);
      last = rows[0]!.n;
      result[key] += last;
      result.batches++;
    }
    if (last === batch) result.more = true;
  }
  result.ms = Math.round(performance.now() - started);
  return result;
}

/** The rows of the partitions about to be dropped, estimated (reltuples), for the metrics. */
async function dueRowsEstimate(pool: pg.Pool, retentionDays: number): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    'select coalesce(sum(rows_estimate), 0)::float8 as n from intake_private.body_partitions_due($1)',
    [retentionDays],
  );
  return Math.round(Number(rows[0]!.n));
}

export function pruneBodiesTask(pool: pg.Pool, retentionDays: number): Task {
  return async () => {
    const result = await observedRetentionRun('bodies', async () => {
      const estimate = await dueRowsEstimate(pool, retentionDays);
      const pruned = await pruneBodies(pool, retentionDays);
      pruned.partitionRows = pruned.partitions.length > 0 ? estimate : 0;
      return pruned;
    }, (r) => r.partitionRows + r.defaultRows + r.legacyRows);
    log.info('retention: delivery bodies pruned', {
      partitions_dropped: result.partitions, partition_rows_estimate: result.partitionRows, default_rows: result.defaultRows,
      legacy_rows_cut: result.legacyRows, batches: result.batches, more: result.more, ms: result.ms, retention_days: retentionDays,
    });
  };
}

export function makeBodyPartitionsTask(pool: pg.Pool): Task {
  return async () => {
    const started = performance.now();
    const made = await observedRetentionRun('body_partitions', () => makeBodyPartitions(pool), () => 0);
    log.info('retention: delivery body partitions made', { made, days_ahead: BODY_PARTITIONS_AHEAD, ms: Math.round(performance.now() - started) });
  };
}
