// Running one workflow run: its steps in order, each executed step in its OWN transaction (as
// intake_app, tenant set) that runs the step's action AND records the step's result in the run
// row. A retry (a transient error rethrown to graphile-worker, a worker that died) reloads the
// run and resumes after the last step that committed; a committed step is never run again.
//
// Expressions see `{input, steps, vars}`: the envelope, the outputs of the steps that ran so far
// by step id (skipped steps are absent), and the variables set so far.
import type pg from 'pg';
import { parseJson } from '../../core/json.ts';
import { compileExpression } from '../../core/jsonata.ts';
import { errorMessage, log } from '../../core/log.ts';
import { ActionError, getAction, validateValues } from '../actions/index.ts';
import type { ActionContext } from '../actions/index.ts';
import { finalFailureMessage, isPermanent, PermanentFailure, UUID } from '../failures.ts';
import { storedDefinitionSchema, type WorkflowStep } from './definition.ts';

export interface RunOptions {
  jsonataTimeoutMs: number;
}

export interface Attempt {
  number: number;
  max: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface StepResult {
  status: 'succeeded' | 'skipped' | 'failed';
  output?: Json;
  error?: string;
  finished_at: string;
}

interface RunRow {
  status: 'pending' | 'running' | 'succeeded' | 'failed';
  definition: unknown;
  input: Json;
  step_results: Record<string, StepResult>;
  variables: Record<string, Json>;
  delivery_id: string | null;
  inbound_webhook_id: string | null;
  slug: string | null;
  mapping_namespace: string | null;
}

interface Scope {
  input: Json;
  steps: Record<string, Json>;
  vars: Record<string, Json>;
}

/** A step's failure, with the step it happened in. */
class StepFailure extends Error {
  readonly step: string;
  readonly reason: unknown;
  constructor(step: string, reason: unknown) {
    super(`step ${JSON.stringify(step)}: ${errorMessage(reason)}`);
    this.step = step;
    this.reason = reason;
  }
}

/** What became of a step: recorded (the run goes on, or ended with it), or not (stale). */
type Outcome = 'next' | 'ended' | 'stale';

/** JSONata truthiness, as $boolean() has it. */
export function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (typeof value === 'number') return !Number.isNaN(value);
  if (Array.isArray(value)) return value.some(truthy);
  if (typeof value === 'function') return false;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** What JSON keeps of a value: the same whether a step ran in this attempt or was reloaded. */
function toJson(value: unknown): Json | undefined {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value);
  return text === undefined ? undefined : (JSON.parse(text) as Json);
}

async function evaluate(where: string, source: string, scope: Scope, options: RunOptions): Promise<unknown> {
  try {
    return await compileExpression(source, { timeoutMs: options.jsonataTimeoutMs }).evaluate(scope);
  } catch (error) {
    throw new PermanentFailure(`${where}: ${errorMessage(error)}`);
  }
}

export async function runWorkflow(pool: pg.Pool, tenant: string, runId: string, attempt: Attempt, options: RunOptions): Promise<void> {
  if (!UUID.test(tenant) || !UUID.test(runId)) throw new Error('run_workflow: tenant and run_id must be uuids');
  const { rows } = await pool.query<RunRow>(
    `select r.status, r.definition, r.input::text as input, r.step_results, r.variables, r.delivery_id,
            d.inbound_webhook_id, w.slug, w.mapping_namespace
       from intake.workflow_runs r
       left join intake.inbound_webhook_deliveries d on d.tenant = r.tenant and d.delivery_id = r.delivery_id
       left join intake.inbound_webhooks w on w.tenant = d.tenant and w.inbound_webhook_id = d.inbound_webhook_id
      where r.tenant = $1 and r.run_id = $2`,
    [tenant, runId],
  );
  const run = rows[0];
  if (!run) {
    log.warn('run_workflow: run no longer exists', { tenant, run_id: runId });
    return;
  }
  if (run.status === 'succeeded' || run.status === 'failed') return;
  // The envelope is read as text and parsed here, not by pg (JSON.parse), so 64-bit ids in the
  // body keep every digit.
  run.input = parseJson(run.input as unknown as string) as Json;

  try {
    await pool.query(
      `update intake.workflow_runs set status = 'running', started_at = coalesce(started_at, now())
        where tenant = $1 and run_id = $2 and status = 'pending'`,
      [tenant, runId],
    );
    const parsed = storedDefinitionSchema.safeParse(run.definition);
    if (!parsed.success) throw new PermanentFailure(`the run's definition is not valid: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    if (run.inbound_webhook_id === null || run.slug === null || run.delivery_id === null) {
      throw new PermanentFailure('the delivery that started this run no longer exists');
    }
    const context: Omit<ActionContext, 'db'> = {
      tenant,
      inboundWebhookId: run.inbound_webhook_id,
      deliveryId: run.delivery_id,
      integrationType: `webhook:${run.mapping_namespace ?? run.slug}`,
    };
    await executeSteps(pool, runId, parsed.data.steps, run, context, options);
  } catch (error) {
    const cause = error instanceof StepFailure ? error.reason : error;
    const step = error instanceof StepFailure ? error.step : null;
    const message = errorMessage(error);
    if (isPermanent(cause) || attempt.number >= attempt.max) {
      const final = finalFailureMessage(cause, message, attempt.number);
      await failRun(pool, tenant, runId, step, final, attempt.number - 1);
      log.info('workflow run failed', { tenant, run_id: runId, step, error: final });
      return;
    }
    await pool.query(
      `update intake.workflow_runs set retry_count = $3, error_message = $4
        where tenant = $1 and run_id = $2 and status in ('pending', 'running')`,
      [tenant, runId, attempt.number, `attempt ${attempt.number} of ${attempt.max} failed, will retry: ${message}`],
    );
    throw error; // graphile-worker retries with exponential backoff; the run resumes after its last committed step
  }
}

async function executeSteps(
  pool: pg.Pool,
  runId: string,
  steps: readonly WorkflowStep[],
  run: RunRow,
  context: Omit<ActionContext, 'db'>,
  options: RunOptions,
): Promise<void> {
  const scope: Scope = { input: run.input, steps: {}, vars: { ...run.variables } };
  for (const [index, step] of steps.entries()) {
    const done = run.step_results[step.id];
    if (done) {
      if (done.status === 'succeeded' && done.output !== undefined) scope.steps[step.id] = done.output;
      continue;
    }
    const last = index === steps.length - 1;
    let outcome: Outcome;
    try {
      outcome = await executeStep(pool, runId, step, last, scope, context, options);
    } catch (error) {
      throw new StepFailure(step.id, error);
    }
    // 'stale': another execution of this run got there first, or the run was stopped by hand.
    if (outcome !== 'next') return;
  }
  // Defensive: every step was recorded, yet the run is not finished (the last step's transaction
  // normally finishes it). Finish it now.
  await pool.query(
    `update intake.workflow_runs set status = 'succeeded', finished_at = now(), error_message = null
      where tenant = $1 and run_id = $2 and status = 'running'`,
    [context.tenant, runId],
  );
}

/**
 * One step: `when`, then its input (evaluated and validated before the transaction), then in
 * one transaction its action, `set`, `end` and the record of its result; `scope` is updated once
 * that has committed.
 */
async function executeStep(
  pool: pg.Pool,
  runId: string,
  step: WorkflowStep,
  last: boolean,
  scope: Scope,
  context: Omit<ActionContext, 'db'>,
  options: RunOptions,
): Promise<Outcome> {
  if (step.when !== undefined && !truthy(await evaluate('when', step.when, scope, options))) {
    const recorded = await record(pool, runId, step.id, context.tenant, async () => ({ result: { status: 'skipped' }, finish: last }));
    return !recorded ? 'stale' : last ? 'ended' : 'next';
  }

  let call: ((client: pg.PoolClient) => Promise<Record<string, unknown>>) | undefined;
  if (step.action !== undefined) {
    const action = getAction(step.action);
    if (!action) throw new PermanentFailure(`action ${JSON.stringify(step.action)} is not registered`);
    const mapped: Record<string, unknown> = {};
    for (const [field, source] of Object.entries(step.input ?? {})) {
      const value = await evaluate(`input.${field}`, source, scope, options);
      if (value !== undefined) mapped[field] = value;
    }
    let values: Record<string, unknown>;
    try {
      values = validateValues(action, mapped);
    } catch (error) {
      throw new ActionError(`${step.action}: ${errorMessage(error)}`);
    }
    call = async (client) => {
      try {
        return await action.definition.handle({ ...context, db: client }, values);
      } catch (error) {
        if (error instanceof ActionError) throw new ActionError(`${step.action}: ${error.message}`);
        throw error;
      }
    };
  }

  let ended = false;
  const recorded = await record(pool, runId, step.id, context.tenant, async (client) => {
    const output = call ? (toJson(await call(client)) ?? null) : undefined;
    const seen: Scope = output === undefined ? scope : { ...scope, steps: { ...scope.steps, [step.id]: output } };
    const assigned: Record<string, Json> = {};
    const vars = { ...scope.vars };
    for (const [name, source] of Object.entries(step.set ?? {})) {
      const value = toJson(await evaluate(`set.${name}`, source, seen, options));
      if (value === undefined) delete vars[name];
      else vars[name] = assigned[name] = value;
    }
    const end = step.end === undefined ? false : typeof step.end === 'boolean' ? step.end : truthy(await evaluate('end', step.end, { ...seen, vars }, options));
    // A step without an action outputs the variables it set.
    const stepOutput = output ?? assigned;
    return {
      result: { status: 'succeeded', output: stepOutput },
      vars,
      finish: end || last,
      apply() {
        scope.steps[step.id] = stepOutput;
        scope.vars = vars;
        ended = end || last;
      },
    };
  });
  return !recorded ? 'stale' : ended ? 'ended' : 'next';
}

interface Recording {
  result: Omit<StepResult, 'finished_at'>;
  vars?: Record<string, Json>;
  /** the run ends with this step (succeeded) */
  finish: boolean;
  /** called once the transaction has committed */
  apply?: () => void;
}

/**
 * The step transaction: as intake_app with the tenant set, lock the run row, check it is still
 * running and the step not yet recorded, do the step's work and record its result (and the run's
 * end) before committing.
 */
async function record(
  pool: pg.Pool,
  runId: string,
  stepId: string,
  tenant: string,
  work: (client: pg.PoolClient) => Promise<Recording>,
): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(`select set_config('role', 'intake_app', true), set_config('intake.tenant', $1, true)`, [tenant]);
    const { rows } = await client.query<{ status: string; done: boolean }>(
      `select status, step_results ? $3 as done from intake.workflow_runs where tenant = $1 and run_id = $2 for update`,
      [tenant, runId, stepId],
    );
    if (rows[0]?.status !== 'running' || rows[0].done) {
      await client.query('rollback');
      return false;
    }
    const recording = await work(client);
    const result: StepResult = { ...recording.result, finished_at: new Date().toISOString() };
    await client.query(
      `update intake.workflow_runs
          set step_results = step_results || jsonb_build_object($3::text, $4::jsonb),
              variables = coalesce($5::jsonb, variables),
              status = case when $6 then 'succeeded' else status end,
              finished_at = case when $6 then now() else finished_at end,
              error_message = case when $6 then null else error_message end
        where tenant = $1 and run_id = $2`,
      [tenant, runId, stepId, JSON.stringify(result), recording.vars ? JSON.stringify(recording.vars) : null, recording.finish],
    );
    await client.query('commit');
    recording.apply?.();
    return true;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function failRun(pool: pg.Pool, tenant: string, runId: string, step: string | null, message: string, retries: number): Promise<void> {
  const result: StepResult | null = step === null ? null : { status: 'failed', error: message, finished_at: new Date().toISOString() };
  await pool.query(
    `update intake.workflow_runs
        set status = 'failed', failed_step = $3, error_message = $4, finished_at = now(), retry_count = $5,
            started_at = coalesce(started_at, now()),
            step_results = case when $3::text is null then step_results else step_results || jsonb_build_object($3::text, $6::jsonb) end
      where tenant = $1 and run_id = $2 and status in ('pending', 'running')`,
    [tenant, runId, step, message, retries, result ? JSON.stringify(result) : null],
  );
}
