// The outbound sweeper: how every committed event gets its fan-out job. Event rows are written by
// triggers, which may not call add_job (design rule 3), so each worker process runs this loop:
// every INTAKE_OUTBOUND_SWEEP_MS it calls intake_private.enqueue_outbound_fanouts, which adds one
// outbound_fanout job per up to 20 events of a tenant that have none yet (up to 500 events, in
// one add_jobs call) and marks them in the same transaction. An event committed after a sweep
// read the table is unmarked, so the next sweep takes it; a sweep that fails or is killed marks nothing, so the next one
// takes the same events. Several worker processes take turns (an advisory lock in the function).
import type pg from 'pg';
import { errorMessage, log } from '../../core/log.ts';

export const SWEEP_BATCH = 500;

/** One sweep: how many events it marked. */
export async function sweepOutboundEvents(pool: pg.Pool, limit = SWEEP_BATCH): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('select intake_private.enqueue_outbound_fanouts($1) as n', [limit]);
  return rows[0]?.n ?? 0;
}

export interface OutboundSweeper {
  stop(): Promise<void>;
}

export function startOutboundSweeper(pool: pg.Pool, intervalMs: number): OutboundSweeper {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let failing = false;
  const tick = () => {
    timer = null;
    running = (async () => {
      let again = false;
      try {
        again = (await sweepOutboundEvents(pool)) >= SWEEP_BATCH; // a full batch: more are waiting
        if (failing) log.info('outbound sweeper: recovered');
        failing = false;
      } catch (error) {
        if (!failing) log.warn('outbound sweeper: sweep failed; retrying', { error: errorMessage(error) });
        failing = true;
      }
      if (!stopped) timer = setTimeout(tick, again ? 0 : intervalMs);
    })();
  };
  timer = setTimeout(tick, 0);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
