// Task dispatch_delivery: payload `{tenant, delivery_id, attempts_before?}` (ids only), for a replay,
// a test delivery or the retries of a delivery whose attempt failed transiently; the work is in
// ../dispatch.ts. `attempts_before`: the attempts of an earlier job of the delivery that
// rescheduled itself because its webhook was being drained (they count towards the same limit).
import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { z } from 'zod';
import { dispatchDelivery, type DispatchOptions } from '../dispatch.ts';

const payloadSchema = z.object({ tenant: z.uuid(), delivery_id: z.uuid(), attempts_before: z.int().min(0).max(1000).optional() });

export function dispatchDeliveryTask(pool: pg.Pool, options: DispatchOptions): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`dispatch_delivery: malformed payload ${JSON.stringify(payload)}; dropping the job`);
      return;
    }
    const before = parsed.data.attempts_before ?? 0;
    await dispatchDelivery(pool, parsed.data.tenant, parsed.data.delivery_id, {
      number: helpers.job.attempts + before,
      max: helpers.job.max_attempts + before,
    }, options);
  };
}
