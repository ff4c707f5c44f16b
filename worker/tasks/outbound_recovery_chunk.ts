// Task outbound_recovery_chunk: payload `{tenant, recovery_id}` (ids only). One transaction runs
// intake_private.outbound_recovery_chunk: the next 100 failed deliveries go back to pending with
// their jobs, the run's position and progress move, and the next chunk's job is added. On the
// job's last attempt a failure marks the run failed, so the UI stops waiting for it.
import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { z } from 'zod';
import { errorMessage, log } from '../../core/log.ts';

export const RECOVERY_CHUNK = 100;

const payloadSchema = z.object({ tenant: z.uuid(), recovery_id: z.uuid() });

export async function runOutboundRecoveryChunk(pool: pg.Pool, tenant: string, recoveryId: string, chunk = RECOVERY_CHUNK) {
  const { rows } = await pool.query('select status, processed, total from intake_private.outbound_recovery_chunk($1, $2, $3)', [tenant, recoveryId, chunk]);
  return rows[0] as { status: string | null; processed: number | null; total: number | null } | undefined;
}

export function outboundRecoveryChunkTask(pool: pg.Pool): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`outbound_recovery_chunk: malformed payload ${JSON.stringify(payload)}; dropping the job`);
      return;
    }
    const { tenant, recovery_id } = parsed.data;
    try {
      await runOutboundRecoveryChunk(pool, tenant, recovery_id);
    } catch (error) {
      if (helpers.job.attempts >= helpers.job.max_attempts) {
        await pool.query(
          `update intake.outbound_recoveries set status = 'failed', error_message = $3, finished_at = now()
            where tenant = $1 and recovery_id = $2 and status = 'running'`,
          [tenant, recovery_id, `gave up after ${helpers.job.attempts} attempts: ${errorMessage(error)}`],
        ).catch((e: unknown) => log.error('outbound recovery: could not record its failure', { tenant, recovery_id, error: errorMessage(e) }));
      }
      throw error;
    }
  };
}
