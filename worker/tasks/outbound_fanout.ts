// Task outbound_fanout: payload `{tenant, event_ids}` (up to 20 events of one tenant, ids only),
// added by the sweeper (../outbound/sweeper.ts), or `{tenant, event_id}` (one event: jobs queued
// before the sweeper took events in chunks). intake_private.fan_out_outbound_events makes one
// delivery per event and matching active subscription and adds their outbound_deliver jobs (up
// to 20 deliveries each, across events) in one add_jobs call, in one transaction; run again, it
// finds the events fanned out and does nothing.
import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { z } from 'zod';

const payloadSchema = z.union([
  z.object({ tenant: z.uuid(), event_ids: z.array(z.uuid()).min(1).max(1000) }),
  z.object({ tenant: z.uuid(), event_id: z.uuid() }),
]);

export async function fanOutOutboundEvents(pool: pg.Pool, tenant: string, eventIds: readonly string[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('select intake_private.fan_out_outbound_events($1, $2::uuid[]) as n', [tenant, eventIds]);
  return rows[0]?.n ?? 0;
}

export async function fanOutOutboundEvent(pool: pg.Pool, tenant: string, eventId: string): Promise<number> {
  return fanOutOutboundEvents(pool, tenant, [eventId]);
}

export function outboundFanoutTask(pool: pg.Pool): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`outbound_fanout: malformed payload ${JSON.stringify(payload)}; dropping the job`);
      return;
    }
    const job = parsed.data;
    await fanOutOutboundEvents(pool, job.tenant, 'event_ids' in job ? job.event_ids : [job.event_id]);
  };
}
