// Task dispatch_webhook: payload `{tenant, inbound_webhook_id}` (ids only), enqueued by the
// receiver for a batch that no queued job of its webhook is certain to follow
// (intake.receive_deliveries); drains the webhook's pending deliveries (../dispatch.ts).
import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { z } from 'zod';
import { drainWebhook, type DispatchOptions } from '../dispatch.ts';

const payloadSchema = z.object({ tenant: z.uuid(), inbound_webhook_id: z.uuid() });

export function dispatchWebhookTask(pool: pg.Pool, options: DispatchOptions): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`dispatch_webhook: malformed payload ${JSON.stringify(payload)}; dropping the job`);
      return;
    }
    await drainWebhook(pool, parsed.data.tenant, parsed.data.inbound_webhook_id, options);
  };
}
