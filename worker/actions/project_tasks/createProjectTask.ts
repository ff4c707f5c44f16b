// createProjectTask: a task in a project (by id or external id), optionally in one of that
// project's phases (by id or name). With external_id mapped it also records the mapping, and a
// repeat of the same external id returns the task already made.
import { ActionError, registerAction, type ActionContext } from '../registry.ts';
import { findByExternalId, lockExternalId, resolveEntity, resolveReference, resolveUser, writeMapping } from '../resolve.ts';

interface Values extends Record<string, unknown> {
  project: string;
  task_name: string;
  description?: string;
  phase?: string;
  status?: string;
  assigned_to?: string;
  estimated_hours?: number;
  due_date?: Date;
  external_id?: string;
}

/** A phase of the project by id or case-insensitive name; a miss lists the project's phases. */
async function resolvePhase(ctx: ActionContext, projectId: string, value: string): Promise<string> {
  const { rows } = await ctx.db.query<{ phase_id: string; phase_name: string; hit: boolean }>(
    `select phase_id, phase_name, (phase_id::text = lower($3) or lower(phase_name) = lower($3)) as hit
       from psa.project_phases where tenant = $1 and project_id = $2
      order by order_number, phase_name`,
    [ctx.tenant, projectId, value],
  );
  const hit = rows.find((r) => r.hit);
  if (hit) return hit.phase_id;
  throw new ActionError(
    `field "phase": no phase named or with id ${JSON.stringify(value)} in project ${projectId} (its phases: ${rows.map((r) => r.phase_name).join(', ') || 'none'})`,
  );
}

export const createProjectTask = registerAction<Values>({
  name: 'createProjectTask',
  entityType: 'project_task',
  displayName: 'Create project task',
  description:
    'Creates a task in a project, optionally in one of its phases. With external_id mapped, records it so later webhooks can update the task; a repeat of that external id returns the existing task.',
  targetFields: [
    { name: 'project', type: 'ref', refEntity: 'project', required: true, description: 'Project id, or the project\'s external id in this webhook\'s namespace.' },
    { name: 'task_name', type: 'string', required: true, maxLength: 500, description: 'Task name.' },
    { name: 'description', type: 'string', required: false, description: 'Task description (plain text).' },
    { name: 'phase', type: 'ref', refEntity: 'project_phase', required: false, description: 'Phase id or name within the project; no phase when absent.' },
    {
      name: 'status',
      type: 'ref',
      refEntity: 'project_task_status',
      required: false,
      description: 'Project-task status id or name (e.g. "To Do"); the default project-task status when absent. A closed status sets completed_at.',
    },
    { name: 'assigned_to', type: 'ref', refEntity: 'user', required: false, description: 'Assignee: a user id or email.' },
    { name: 'estimated_hours', type: 'number', required: false, description: 'Estimated effort in hours, 0 or more.' },
    { name: 'due_date', type: 'datetime', required: false, description: 'When the task is due (its UTC date is kept).' },
    { name: 'external_id', type: 'string', required: false, maxLength: 500, description: 'The sender\'s id for this task; written to tenant_external_entity_mappings.' },
  ],
  async handle(ctx, v) {
    if (v.estimated_hours !== undefined && !(v.estimated_hours >= 0 && v.estimated_hours < 1e6)) {
      throw new ActionError(`field "estimated_hours": expected a number from 0 to 999999.99, got ${v.estimated_hours} (number)`);
    }
    if (v.external_id !== undefined) {
      await lockExternalId(ctx, 'project_task', v.external_id);
      const existing = await findByExternalId(ctx, 'project_task', v.external_id);
      if (existing) {
        const { rows } = await ctx.db.query('select project_id from psa.project_tasks where tenant = $1 and task_id = $2', [ctx.tenant, existing]);
        return { task_id: existing, project_id: rows[0]?.project_id ?? null, created: false };
      }
    }
    const projectId = await resolveEntity(ctx, 'project', 'project', v.project);
    const phaseId = v.phase === undefined ? null : await resolvePhase(ctx, projectId, v.phase);
    const statusId = await resolveReference(ctx, 'project_task_status', 'status', v.status);
    const assignee = v.assigned_to === undefined ? null : await resolveUser(ctx, 'assigned_to', v.assigned_to);

    const { rows } = await ctx.db.query<{ task_id: string; status: string; completed_at: Date | null }>(
      `insert into psa.project_tasks (tenant, project_id, phase_id, task_name, description, status_id, status_type,
                                      assigned_to, estimated_hours, due_date, completed_at)
       select $1, $2, $3, $4, $5, s.status_id, 'project_task', $6, $7, $8::date, case when s.is_closed then now() end
         from psa.statuses s where s.tenant = $1 and s.status_id = $9
       returning task_id, (select name from psa.statuses where tenant = $1 and status_id = $9) as status, completed_at`,
      [
        ctx.tenant, projectId, phaseId, v.task_name, v.description ?? null, assignee, v.estimated_hours ?? null,
        v.due_date ? v.due_date.toISOString().slice(0, 10) : null, statusId,
      ],
    );
    const task = rows[0]!;
    if (v.external_id !== undefined) await writeMapping(ctx, 'project_task', task.task_id, v.external_id);
    return { task_id: task.task_id, project_id: projectId, phase_id: phaseId, status: task.status, completed_at: task.completed_at, created: true };
  },
});
