// Workflows: saving a definition (validated first, every message naming the step) and reading
// workflows and their runs. Runs as the database owner (CLI) and always filters by tenant; the
// GraphQL layer will run the same SQL as intake_app.
import type pg from 'pg';
import { toStored, validateDefinition } from '../worker/workflows/definition.ts';
import { UserError } from './errors.ts';
import { tenantIdForSlug } from './tenants.ts';

export interface CreatedWorkflow {
  id: string;
  name: string;
  version: number;
}

/** Validates a definition file's content and stores it as a new, active workflow. */
export async function createWorkflow(db: pg.ClientBase | pg.Pool, tenantSlug: string, raw: unknown): Promise<CreatedWorkflow> {
  const checked = validateDefinition(raw);
  if (!checked.ok) throw new UserError('validation', checked.errors.join('; '), { errors: checked.errors });
  const definition = checked.definition;
  const tenant = await tenantIdForSlug(db, tenantSlug);
  try {
    const { rows } = await db.query(
      `insert into intake.workflows (tenant, name, description, definition)
       values ($1, $2, $3, $4)
       returning workflow_id as id, name, version`,
      [tenant, definition.name, definition.description ?? null, JSON.stringify(toStored(definition))],
    );
    return rows[0] as CreatedWorkflow;
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      throw new UserError('conflict', `tenant "${tenantSlug}" already has a workflow named "${definition.name}"`);
    }
    throw error;
  }
}

export async function listWorkflows(db: pg.ClientBase | pg.Pool, tenantSlug: string) {
  const tenant = await tenantIdForSlug(db, tenantSlug);
  const { rows } = await db.query(
    `select workflow_id as id, name, description, version, is_active, definition, created_at, updated_at
       from intake.workflows where tenant = $1 order by lower(name)`,
    [tenant],
  );
  return rows;
}

export const RUN_STATUSES = ['pending', 'running', 'succeeded', 'failed'] as const;

export interface RunFilter {
  workflowId?: string;
  status?: (typeof RUN_STATUSES)[number];
  limit?: number;
}

/** Newest first; `workflow` is null once the workflow was deleted. */
export async function listWorkflowRuns(db: pg.ClientBase | pg.Pool, tenantSlug: string, filter: RunFilter = {}) {
  const tenant = await tenantIdForSlug(db, tenantSlug);
  const { rows } = await db.query(
    `select r.run_id as id, r.workflow_id, wf.name as workflow, r.workflow_version, r.delivery_id, r.status,
            r.failed_step, r.error_message, r.step_results, r.variables, r.retry_count,
            r.created_at, r.started_at, r.finished_at
       from intake.workflow_runs r
       left join intake.workflows wf on wf.tenant = r.tenant and wf.workflow_id = r.workflow_id
      where r.tenant = $1 and ($2::uuid is null or r.workflow_id = $2) and ($3::text is null or r.status = $3)
      order by r.created_at desc, r.run_id desc
      limit $4`,
    [tenant, filter.workflowId ?? null, filter.status ?? null, filter.limit ?? 100],
  );
  return rows;
}

/** For webhook creation: the handler's workflow must exist in the tenant. */
export async function requireWorkflow(db: pg.ClientBase | pg.Pool, tenant: string, workflowId: string, tenantSlug: string): Promise<void> {
  const { rows } = await db.query(`select 1 from intake.workflows where tenant = $1 and workflow_id = $2`, [tenant, workflowId]);
  if (!rows[0]) {
    throw new UserError('validation', `handler.workflow_id: tenant "${tenantSlug}" has no workflow ${workflowId} (see: intake workflow list)`);
  }
}
