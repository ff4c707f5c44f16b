// Task preview_mapping: payload `{tenant, preview_id}` (ids only), enqueued by
// intake.request_mapping_preview (a DBA's dry run in psql). One transaction as intake_app with
// the tenant set: the pending row is locked, the dry run runs exactly as the APIs' does
// (../preview.ts: the action in a savepoint that is rolled back), and its answer (or the reason
// it could not run: an unknown delivery, no sample) is written into the row before the commit.
// Previews of the tenant older than a day are deleted on the way.
import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { z } from 'zod';
import { UserError } from '../../core/errors.ts';
import { parseJson } from '../../core/json.ts';
import { errorMessage } from '../../core/log.ts';
import { asApp } from '../asApp.ts';
import { previewMapping, previewToJson, type PreviewSource } from '../preview.ts';

const payloadSchema = z.object({ tenant: z.uuid(), preview_id: z.uuid() });

interface PreviewRow {
  inbound_webhook_id: string;
  handler: unknown;
  delivery_id: string | null;
  /** jsonb as text: null = no body (SQL null), 'null' = a JSON null body */
  body: string | null;
}

/** Runs one requested preview; what the task does, callable from tests. */
export async function runMappingPreview(pool: pg.Pool, tenant: string, previewId: string, options: { jsonataTimeoutMs: number }): Promise<void> {
  await asApp(pool, tenant, async (client) => {
    const { rows } = await client.query<PreviewRow>(
      `select inbound_webhook_id, handler, delivery_id, body::text as body from intake.mapping_previews
        where tenant = $1 and preview_id = $2 and status = 'pending' for update`,
      [tenant, previewId],
    );
    const request = rows[0];
    if (request) {
      const source: PreviewSource = request.delivery_id !== null
        ? { kind: 'delivery', deliveryId: request.delivery_id }
        : request.body !== null ? { kind: 'body', body: parseJson(request.body) } : { kind: 'sample' };
      let result: unknown = null;
      let failure: string | null = null;
      try {
        result = previewToJson(await previewMapping(client, request.inbound_webhook_id, request.handler, source, options));
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        failure = error.message;
      }
      await client.query(
        `update intake.mapping_previews set status = $3, result = $4, error_message = $5, finished_at = now()
          where tenant = $1 and preview_id = $2`,
        [tenant, previewId, failure === null ? 'done' : 'failed', result === null ? null : JSON.stringify(result), failure],
      );
    }
    await client.query(`delete from intake.mapping_previews where tenant = $1 and requested_at < now() - interval '1 day'`, [tenant]);
  });
}

export function previewMappingTask(pool: pg.Pool, options: { jsonataTimeoutMs: number }): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`preview_mapping: malformed payload ${JSON.stringify(payload)}; dropping the job`);
      return;
    }
    const { tenant, preview_id } = parsed.data;
    try {
      await runMappingPreview(pool, tenant, preview_id, options);
    } catch (error) {
      // On the last attempt the row says why, so a DBA polling it stops waiting.
      if (helpers.job.attempts >= helpers.job.max_attempts) {
        await pool.query(
          `update intake.mapping_previews set status = 'failed', error_message = $3, finished_at = now()
            where tenant = $1 and preview_id = $2 and status = 'pending'`,
          [tenant, preview_id, `gave up after ${helpers.job.attempts} attempts: ${errorMessage(error)}`],
        );
      }
      throw error;
    }
  };
}
