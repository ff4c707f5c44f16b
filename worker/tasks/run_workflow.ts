// Task run_workflow: payload `{tenant, run_id}` (ids only); the work is in ../workflows/engine.ts.
import type { Task } from 'graphile-worker';
import type pg from 'pg';
import { z } from 'zod';
import { runWorkflow, type RunOptions } from '../workflows/engine.ts';

const payloadSchema = z.object({ tenant: z.uuid(), run_id: z.uuid() });

export function runWorkflowTask(pool: pg.Pool, options: RunOptions): Task {
  return async (payload, helpers) => {
    const parsed = payloadSchema.safeParse(payload);
    if (!parsed.success) {
      helpers.logger.error(`run_workflow: malformed payload ${JSON.stringify(payload)}; dropping the job`);
      return;
    }
    await runWorkflow(pool, parsed.data.tenant, parsed.data.run_id, {
      number: helpers.job.attempts,
      max: helpers.job.max_attempts,
    }, options);
  };
}
