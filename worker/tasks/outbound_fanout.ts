// Task outbound_fanout: payload `{tenant, event_id}` (ids only), added by the sweeper
// (../outbound/sweeper.ts). intake_private.fan_out_outbound_event makes one delivery per matching
// active subscription and adds their outbound_deliver jobs in one add_jobs call, in one
// transaction; run again, it finds the event fanned out and does nothing.
import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { z } from 'zod';

const payloadSchema = z.object({ tenant: z.uuid(), event_id: z.uuid() });

export async function fanOutOutboundEvent(pool: pg.Pool, tenant: string, eventId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('select intake_private.fan_out_outbound_event($1, $2) as n', [tenant, eventId]);
  return rows[0]?.n ?? 0;
}

export function outboundFanoutTask(pool: pg.Pool): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`outbound_fanout: malformed payload ${JSON.stringify(payload)}; dropping the job`);
      return;
    }
    await fanOutOutboundEvent(pool, parsed.data.tenant, parsed.data.event_id);
  };
}
