// Workflows: saving a definition (validated first, every message naming the step) and reading
// workflows and their runs. The CLI's functions run as the database owner and always filter by
// tenant; the management API's (createWorkflowAs, updateWorkflowAs) run inside the request's
// transaction as intake_user and store through the SQL API (intake.create_workflow,
// intake.update_workflow), which checks the permission and takes the tenant from the settings.
import type pg from 'pg';
import { toStored, validateDefinition, workflowDefinitionSchema, type WorkflowDefinition } from '../worker/workflows/definition.ts';
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

// ───────────────────────────── the management API (GraphQL, REST) ─────────────────────────────

/** What both pg's clients and PostGraphile's PgClient can do. */
export interface WorkflowSqlClient {
  query<T = any>(config: { text: string; values?: unknown[] }): Promise<{ rows: readonly T[] }>;
}

/** A row of intake.workflows as the SQL API returns it. */
export type WorkflowRow = Record<string, any> & { tenant: string; workflow_id: string; name: string; version: number };

/** What the API takes: name and description beside the definition's steps ({"steps": [...]}). */
export interface WorkflowInput {
  name?: unknown;
  description?: unknown;
  definition?: unknown;
  is_active?: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Workflows have no permission resource of their own: they are webhook handlers. Checked first
 * (intake.require_permission raises 42501 for intake_user without it) so that a user who may not
 * write gets FORBIDDEN rather than validation messages; the SQL function checks again.
 */
async function requireWebhookPermission(client: WorkflowSqlClient, action: 'create' | 'update'): Promise<void> {
  await client.query({ text: `select intake.require_permission('inbound_webhook', $1)`, values: [action] });
}

/**
 * The definition file the CLI would read, from the API's parts, checked by validateDefinition
 * (every message names the step). `definition` is the executable part, {"steps": [...]}, as the
 * Workflow's definition field shows it; name and description are separate fields.
 */
function checkedDefinition(name: unknown, description: unknown, definition: unknown): WorkflowDefinition {
  if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) {
    throw new UserError('validation', 'definition: must be an object {"steps": [...]}');
  }
  for (const key of ['name', 'description']) {
    if (key in definition) {
      throw new UserError('validation', `definition.${key}: give the ${key} as its own field, beside the definition`);
    }
  }
  const checked = validateDefinition({ ...definition, name, description });
  if (!checked.ok) throw new UserError('validation', checked.errors.join('; '), { errors: checked.errors });
  return checked.definition;
}

function conflictOnName<T>(name: unknown) {
  return (error: unknown): T => {
    if ((error as { code?: string }).code === '23505') {
      throw new UserError('conflict', `this tenant already has a workflow named ${JSON.stringify(name)}`);
    }
    throw error;
  };
}

/** Creates a workflow in the request's tenant (needs inbound_webhook:create). */
export async function createWorkflowAs(client: WorkflowSqlClient, input: WorkflowInput): Promise<WorkflowRow> {
  await requireWebhookPermission(client, 'create');
  const definition = checkedDefinition(input.name, input.description ?? null, input.definition);
  if (input.is_active !== undefined && input.is_active !== null && typeof input.is_active !== 'boolean') {
    throw new UserError('validation', 'is_active: must be true or false');
  }
  const { rows } = await client
    .query<WorkflowRow>({
      text: 'select * from intake.create_workflow($1, $2, $3, $4)',
      values: [definition.name, definition.description ?? null, JSON.stringify(toStored(definition)), input.is_active ?? null],
    })
    .catch(conflictOnName<{ rows: WorkflowRow[] }>(definition.name));
  return rows[0]!;
}

const nameAndDescription = workflowDefinitionSchema.pick({ name: true, description: true }).partial();

/**
 * Changes the fields given (left out: unchanged; description null clears it) of a workflow of
 * the request's tenant (needs inbound_webhook:update). A new definition is validated as the CLI
 * validates a file, and bumps the version when it differs from the stored one.
 */
export async function updateWorkflowAs(client: WorkflowSqlClient, workflowId: string, input: WorkflowInput): Promise<WorkflowRow> {
  await requireWebhookPermission(client, 'update');
  if (!UUID.test(workflowId)) throw new UserError('validation', `workflowId: not a uuid: "${workflowId}"`);
  const patch: Record<string, unknown> = {};
  if (input.definition !== undefined) {
    // the definition is checked as a whole file: with the new name and description, or the current ones
    const { rows } = await client.query<{ name: string; description: string | null }>({
      text: 'select name, description from intake.workflows where workflow_id = $1',
      values: [workflowId],
    });
    if (!rows[0]) throw new UserError('not_found', `workflow ${workflowId} not found`);
    const name = input.name !== undefined ? input.name : rows[0].name;
    const description = input.description !== undefined ? input.description : rows[0].description;
    const definition = checkedDefinition(name, description, input.definition);
    patch.definition = toStored(definition);
    if (input.name !== undefined) patch.name = definition.name;
    if (input.description !== undefined) patch.description = definition.description ?? null;
  } else if (input.name !== undefined || input.description !== undefined) {
    const given = {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
    };
    const parsed = nameAndDescription.safeParse(given);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || 'definition'}: ${issue.message}`);
      throw new UserError('validation', errors.join('; '), { errors });
    }
    if (input.name !== undefined) patch.name = parsed.data.name;
    if (input.description !== undefined) patch.description = parsed.data.description ?? null;
  }
  if (input.is_active !== undefined) {
    if (typeof input.is_active !== 'boolean') throw new UserError('validation', 'is_active: must be true or false');
    patch.is_active = input.is_active;
  }
  const { rows } = await client
    .query<WorkflowRow>({ text: 'select * from intake.update_workflow($1, $2)', values: [workflowId, JSON.stringify(patch)] })
    .catch(conflictOnName<{ rows: WorkflowRow[] }>(patch.name));
  return rows[0]!;
}
