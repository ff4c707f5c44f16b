// createTimeEntry: logs time a user spent on one work item, a ticket or a project task (each by
// id or by external id). The duration is the mapped duration_minutes, else end_time − start_time.
// With external_id mapped the entry is recorded in the mappings, and a repeat of that external id
// returns the entry already made (time trackers resend on every edit).
import { ActionError, registerAction } from '../registry.ts';
import { findByExternalId, lockExternalId, resolveEntity, resolveUser, writeMapping } from '../resolve.ts';

interface Values extends Record<string, unknown> {
  user: string;
  start_time?: Date;
  end_time?: Date;
  duration_minutes?: number;
  ticket?: string;
  project_task?: string;
  billable?: boolean;
  notes?: string;
  work_date?: Date;
  external_id?: string;
}

const day = (date: Date) => date.toISOString().slice(0, 10);

/** The duration in minutes, from the mapped value or the times; throws naming the fields. */
function durationOf(v: Values): number {
  if (v.duration_minutes !== undefined && v.duration_minutes <= 0) {
    throw new ActionError(`field "duration_minutes": expected an int greater than 0, got ${v.duration_minutes} (number)`);
  }
  if (v.end_time !== undefined) {
    if (v.start_time === undefined) {
      throw new ActionError(`field "start_time": required with end_time (${v.end_time.toISOString()}), but the mapping produced no value`);
    }
    if (v.end_time <= v.start_time) {
      throw new ActionError(`field "end_time": expected a datetime after start_time (${v.start_time.toISOString()}), got ${v.end_time.toISOString()}`);
    }
  }
  if (v.duration_minutes !== undefined) return v.duration_minutes;
  if (v.start_time !== undefined && v.end_time !== undefined) {
    // Timers log seconds; the entry counts whole minutes, at least one.
    return Math.max(1, Math.round((v.end_time.getTime() - v.start_time.getTime()) / 60_000));
  }
  throw new ActionError(
    `fields "start_time", "end_time", "duration_minutes": expected start_time and end_time or duration_minutes, got ${
      v.start_time ? 'start_time only' : 'none of them'
    }`,
  );
}

export const createTimeEntry = registerAction<Values>({
  name: 'createTimeEntry',
  entityType: 'time_entry',
  displayName: 'Create time entry',
  description:
    'Logs a user\'s time on a ticket or a project task (exactly one). Takes start and end times or a duration. With external_id mapped, a repeat of that external id returns the existing entry.',
  targetFields: [
    { name: 'user', type: 'ref', refEntity: 'user', required: true, description: 'Who did the work: a user id or email.' },
    { name: 'start_time', type: 'datetime', required: false, description: 'When the work started.' },
    { name: 'end_time', type: 'datetime', required: false, description: 'When the work ended; after start_time, which it needs.' },
    {
      name: 'duration_minutes',
      type: 'int',
      required: false,
      description: 'Minutes worked, greater than 0. When absent, end_time − start_time rounded to the minute; one of the two is required.',
    },
    { name: 'ticket', type: 'ref', refEntity: 'ticket', required: false, description: 'The ticket worked on: id, or external id in this webhook\'s namespace. Exactly one of ticket and project_task.' },
    {
      name: 'project_task',
      type: 'ref',
      refEntity: 'project_task',
      required: false,
      description: 'The project task worked on: id, or external id in this webhook\'s namespace. Exactly one of ticket and project_task.',
    },
    { name: 'billable', type: 'boolean', required: false, description: 'Whether the time is billable; true when absent.' },
    { name: 'notes', type: 'string', required: false, description: 'What was done.' },
    { name: 'work_date', type: 'datetime', required: false, description: 'The day the time counts for (its UTC date); start_time\'s date, else today, when absent.' },
    { name: 'external_id', type: 'string', required: false, maxLength: 500, description: 'The sender\'s id for this entry; written to tenant_external_entity_mappings.' },
  ],
  async handle(ctx, v) {
    if ((v.ticket === undefined) === (v.project_task === undefined)) {
      const got = v.ticket === undefined ? 'neither' : `both (ticket ${JSON.stringify(v.ticket)}, project_task ${JSON.stringify(v.project_task)})`;
      throw new ActionError(`fields "ticket", "project_task": expected exactly one work item, got ${got}`);
    }
    const duration = durationOf(v);
    if (v.external_id !== undefined) {
      await lockExternalId(ctx, 'time_entry', v.external_id);
      const existing = await findByExternalId(ctx, 'time_entry', v.external_id);
      if (existing) return { entry_id: existing, created: false };
    }
    const userId = await resolveUser(ctx, 'user', v.user);
    const ticketId = v.ticket === undefined ? null : await resolveEntity(ctx, 'ticket', 'ticket', v.ticket);
    const taskId = v.project_task === undefined ? null : await resolveEntity(ctx, 'project_task', 'project_task', v.project_task);
    const workDate = v.work_date ?? v.start_time;

    const { rows } = await ctx.db.query<{ entry_id: string; work_date: string }>(
      `insert into psa.time_entries (tenant, user_id, work_item_type, ticket_id, task_id, work_date, start_time, end_time,
                                     duration_minutes, billable, notes)
       values ($1, $2, $3, $4, $5, coalesce($6::date, current_date), $7, $8, $9, $10, $11)
       returning entry_id, work_date::text`,
      [
        ctx.tenant, userId, ticketId ? 'ticket' : 'project_task', ticketId, taskId, workDate ? day(workDate) : null,
        v.start_time ?? null, v.end_time ?? null, duration, v.billable ?? true, v.notes ?? null,
      ],
    );
    const entry = rows[0]!;
    if (v.external_id !== undefined) await writeMapping(ctx, 'time_entry', entry.entry_id, v.external_id);
    return {
      entry_id: entry.entry_id,
      user_id: userId,
      work_item_type: ticketId ? 'ticket' : 'project_task',
      ticket_id: ticketId,
      task_id: taskId,
      duration_minutes: duration,
      work_date: entry.work_date,
      created: true,
    };
  },
});
