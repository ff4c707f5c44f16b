// Task bulk_replay_chunk: payload `{tenant, bulk_replay_id}` (ids only). One transaction as
// intake_app with the tenant set runs intake_private.bulk_replay_chunk, which replays the next
// chunk through intake.replay_delivery, moves the run's keyset position and counts, and enqueues
// the next chunk's job, all before the one commit: a retried job resumes after the last committed
// chunk, so no original is replayed twice. On the job's last attempt a failure also marks the
// run failed, so the UI stops waiting for it.
import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { z } from 'zod';
import { log } from '../../core/log.ts';
import { asApp } from '../asApp.ts';

/** Originals replayed per chunk (per job and transaction): each makes a delivery row and a dispatch job. */
export const BULK_REPLAY_CHUNK = 100;

const payloadSchema = z.object({ tenant: z.uuid(), bulk_replay_id: z.uuid() });


export interface ChunkResult {
  status: string;
  processed: number;
  total: number;
}

/** Runs one chunk of the bulk replay; what the task does, callable from tests. */
export async function runBulkReplayChunk(pool: pg.Pool, tenant: string, bulkReplayId: string, chunk = BULK_REPLAY_CHUNK): Promise<ChunkResult | null> {
  return asApp(pool, tenant, async (client) => {
    const { rows } = await client.query(
      `select status, processed, total from intake_private.bulk_replay_chunk($1, $2, $3) where bulk_replay_id is not null`,
      [tenant, bulkReplayId, chunk],
    );
    return rows[0] ?? null;
  });
}

export function bulkReplayChunkTask(pool: pg.Pool): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`bulk_replay_chunk: malformed payload ${JSON.stringify(payload)}; dropping the job`);
      return;
    }
    const { tenant, bulk_replay_id } = parsed.data;
    try {
      const result = await runBulkReplayChunk(pool, tenant, bulk_replay_id);
      if (result?.status === 'finished') log.info('bulk replay finished', { tenant, bulk_replay_id, processed: result.processed, total: result.total });
    } catch (error) {
      if (helpers.job.attempts >= helpers.job.max_attempts) {
        const message = `gave up after ${helpers.job.attempts} attempts: ${(error as Error).message}`;
        await asApp(pool, tenant, (client) =>
          client.query(
            `update intake.bulk_replays set status = 'failed', error_message = $3, finished_at = now()
              where tenant = $1 and bulk_replay_id = $2 and status = 'running'`,
            [tenant, bulk_replay_id, message],
          ),
        ).catch((markError: unknown) => log.error('bulk replay: could not record its failure', { tenant, bulk_replay_id, error: (markError as Error).message }));
        log.error('bulk replay failed', { tenant, bulk_replay_id, error: message });
      }
      throw error;
    }
  };
}
