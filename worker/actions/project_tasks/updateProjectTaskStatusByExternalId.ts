// updateProjectTaskStatusByExternalId: moves the project task an external id maps to into a
// status (by id or name). completed_at follows: set when the task enters a closed status (kept
// if it was already closed), cleared when it reopens.
import { ActionError, registerAction } from '../registry.ts';
import { requireByExternalId, resolveReference } from '../resolve.ts';

interface Values extends Record<string, unknown> {
  external_id: string;
  status: string;
}

interface TaskRow {
  status: string;
  completed_at: Date | null;
}

export const updateProjectTaskStatusByExternalId = registerAction<Values>({
  name: 'updateProjectTaskStatusByExternalId',
  entityType: 'project_task',
  displayName: 'Change project task status',
  description:
    'Sets the status of the project task an external id maps to. A closed status (e.g. "Done") sets completed_at; any other status clears it.',
  targetFields: [
    { name: 'external_id', type: 'string', required: true, maxLength: 500, description: 'The sender\'s id for the task, resolved through this webhook\'s mappings.' },
    { name: 'status', type: 'ref', refEntity: 'project_task_status', required: true, description: 'Project-task status id or name (e.g. "In Progress", "Done").' },
  ],
  async handle(ctx, v) {
    const taskId = await requireByExternalId(ctx, 'project_task', 'external_id', v.external_id);
    const statusId = await resolveReference(ctx, 'project_task_status', 'status', v.status);
    const locked = await ctx.db.query<TaskRow>(
      `select s.name as status, t.completed_at
         from psa.project_tasks t join psa.statuses s on s.tenant = t.tenant and s.status_id = t.status_id
        where t.tenant = $1 and t.task_id = $2
          for update of t`,
      [ctx.tenant, taskId],
    );
    const before = locked.rows[0];
    if (!before) throw new ActionError(`field "external_id": project task ${JSON.stringify(v.external_id)} is mapped but no longer exists`);

    const { rows } = await ctx.db.query<TaskRow>(
      `update psa.project_tasks t
          set status_id = s.status_id,
              completed_at = case when s.is_closed then coalesce(t.completed_at, now()) end,
              updated_at = now()
         from psa.statuses s
        where t.tenant = $1 and t.task_id = $2 and s.tenant = $1 and s.status_id = $3
        returning s.name as status, t.completed_at`,
      [ctx.tenant, taskId, statusId],
    );
    const after = rows[0]!;
    return {
      task_id: taskId,
      previous_status: before.status,
      status: after.status,
      completed_at: after.completed_at,
      changed: before.status !== after.status,
    };
  },
});
