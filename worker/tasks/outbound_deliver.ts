// Task outbound_deliver: payload `{tenant, delivery_id, trigger?}` (ids only). One attempt of the
// delivery (../outbound/deliver.ts), which schedules the next one itself (run_at) when it fails;
// the job fails (and graphile-worker retries it) only when the database does.
import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { z } from 'zod';
import { deliverOutbound, type OutboundDeliverOptions } from '../outbound/deliver.ts';

const payloadSchema = z.object({ tenant: z.uuid(), delivery_id: z.uuid(), trigger: z.enum(['scheduled', 'manual', 'test']).optional() });

export function outboundDeliverTask(pool: pg.Pool, options: OutboundDeliverOptions): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`outbound_deliver: malformed payload ${JSON.stringify(payload)}; dropping the job`);
      return;
    }
    await deliverOutbound(pool, parsed.data.tenant, parsed.data.delivery_id, parsed.data.trigger ?? 'scheduled', options);
  };
}
