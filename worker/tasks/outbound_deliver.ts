// Task outbound_deliver: payload `{tenant, delivery_ids}` (a fan-out's batch, up to 20) or
// `{tenant, delivery_id, trigger?}` (one delivery's retry, test or recovery): ids only. One
// attempt of each (../outbound/deliver.ts), which schedules a failed delivery's next attempt as
// a job of its own (run_at); the job fails (and graphile-worker retries it) only when the
// database does, and a re-run leaves the deliveries already attempted-to-success alone.
import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { z } from 'zod';
import { deliverOutboundBatch, type OutboundDeliverOptions } from '../outbound/deliver.ts';

const payloadSchema = z.union([
  z.object({ tenant: z.uuid(), delivery_id: z.uuid(), trigger: z.enum(['scheduled', 'manual', 'test']).optional() }),
  z.object({ tenant: z.uuid(), delivery_ids: z.array(z.uuid()).min(1).max(1000) }),
]);

export function outboundDeliverTask(pool: pg.Pool, options: OutboundDeliverOptions): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`outbound_deliver: malformed payload ${JSON.stringify(payload)}; dropping the job`);
      return;
    }
    const job = parsed.data;
    if ('delivery_ids' in job) await deliverOutboundBatch(pool, job.tenant, job.delivery_ids, 'scheduled', options);
    else await deliverOutboundBatch(pool, job.tenant, [job.delivery_id], job.trigger ?? 'scheduled', options);
  };
}
