// Task outbound_prune (graphile-worker cron, hourly): deletes outbound attempts and events past
// their retention (INTAKE_OUTBOUND_ATTEMPT_RETENTION_DAYS, INTAKE_OUTBOUND_EVENT_RETENTION_DAYS;
// 0 keeps them) in batches of INTAKE_OUTBOUND_PRUNE_BATCH, one statement per batch, so no
// statement holds its locks for long. At most 200 batches a run; the next run goes on.
import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { log } from '../../core/log.ts';
import { observedRetentionRun } from '../../core/metrics.ts';

export interface OutboundRetention {
  eventRetentionDays: number;
  attemptRetentionDays: number;
  pruneBatch: number;
}

export const PRUNE_CRONTAB = '17 * * * * outbound_prune ?max=1';
const MAX_BATCHES = 200;

export async function pruneOutbound(pool: pg.Pool, retention: OutboundRetention): Promise<{ attempts: number; events: number }> {
  const total = { attempts: 0, events: 0 };
  for (let i = 0; i < MAX_BATCHES; i++) {
    const { rows } = await pool.query<{ r: { attempts: number; events: number } }>('select intake_private.prune_outbound($1, $2, $3) as r', [
      retention.eventRetentionDays, retention.attemptRetentionDays, retention.pruneBatch,
    ]);
    const r = rows[0]!.r;
    total.attempts += r.attempts;
    total.events += r.events;
    if (r.attempts < retention.pruneBatch && r.events < retention.pruneBatch) break;
  }
  return total;
}

export function outboundPruneTask(pool: pg.Pool, retention: OutboundRetention): Task {
  return async () => {
    const pruned = await observedRetentionRun('outbound', () => pruneOutbound(pool, retention), (p) => p.attempts + p.events);
    if (pruned.attempts || pruned.events) log.info('outbound: pruned', pruned);
  };
}
