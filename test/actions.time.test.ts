// createTimeEntry end to end (signed request in, rows out): time from a tracker against a ticket
// by external id with start/end (duration computed) and against a project task with a duration;
// a repeated external id is one entry; neither or both work items, bad times, a non-int duration
// and an unknown user fail the delivery naming the fields.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { actionWebhook, deliver } from './support/inbound.ts';
import { makeTenant, startTestServer, type TestServer } from './support/server.ts';

const TENANT = 'timeentries';

let db: TestDatabase;
let server: TestServer;
let tenant: string;
let userId: string;
let ticketId: string;
let taskId: string;

/** A Clockify-style "new time entry" webhook body; the PSA ticket rides in a custom field. */
function clockifyEntry(overrides: { id?: string; start?: string; end?: string; duration?: string; email?: string; ticket?: string | null; task?: string } = {}) {
  const customFieldValues = [] as { customFieldId: string; name: string; type: string; value: string }[];
  if (overrides.ticket !== null) customFieldValues.push({ customFieldId: '65f0aa01', name: 'PSA ticket', type: 'TXT', value: overrides.ticket ?? 'ALERT-42' });
  if (overrides.task) customFieldValues.push({ customFieldId: '65f0aa02', name: 'PSA task', type: 'TXT', value: overrides.task });
  return {
    id: overrides.id ?? '65f1c2a9e4b0a1234567890a',
    description: 'Replaced the failed disk on FS01 and rebuilt the array',
    userId: '5e4117fe8c2aa0e0b5d6b3c1',
    billable: true,
    projectId: '65f0a0c3e4b0a12345678901',
    timeInterval: {
      start: overrides.start ?? '2024-03-13T14:00:00Z',
      end: overrides.end ?? '2024-03-13T15:30:00Z',
      duration: overrides.duration ?? 'PT1H30M',
    },
    workspaceId: '5e4117fe8c2aa0e0b5d6b3c0',
    isLocked: false,
    customFieldValues,
    user: { id: '5e4117fe8c2aa0e0b5d6b3c1', name: 'Jane Tech', email: overrides.email ?? 'Jane.Tech@msp.example', status: 'ACTIVE' },
  };
}

const clockifyMapping = {
  user: 'user.email',
  start_time: 'timeInterval.start',
  end_time: 'timeInterval.end',
  billable: 'billable',
  notes: 'description',
  ticket: 'customFieldValues[name="PSA ticket"].value',
  project_task: 'customFieldValues[name="PSA task"].value',
  external_id: 'id',
};

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  tenant = await makeTenant(db.pool, TENANT);
  const q = async (sql: string, params: unknown[]) => (await db.pool.query(sql, params)).rows[0];
  userId = (await q(`insert into psa.users (tenant, email, display_name) values ($1, 'jane.tech@msp.example', 'Jane Tech') returning user_id`, [tenant])).user_id;
  const clientId = (await q(`insert into psa.clients (tenant, client_name) values ($1, 'Acme Corp') returning client_id`, [tenant])).client_id;
  ticketId = (
    await q(
      `insert into psa.tickets (tenant, ticket_number, title, board_id, status_id, priority_id, client_id)
       select $1, 'T-000001', 'FS01 disk failure', b.board_id, s.status_id, p.priority_id, $2
         from psa.boards b, psa.statuses s, psa.priorities p
        where b.tenant = $1 and b.is_default and s.tenant = $1 and s.status_type = 'ticket' and s.is_default
          and p.tenant = $1 and p.is_default
       returning ticket_id`,
      [tenant, clientId],
    )
  ).ticket_id;
  // The ticket was opened by the alerting webhook: its external id lives in the shared namespace.
  await q(
    `insert into psa.tenant_external_entity_mappings (tenant, integration_type, alga_entity_type, alga_entity_id, external_entity_id)
     values ($1, 'webhook:clockify', 'ticket', $2, 'ALERT-42')`,
    [tenant, ticketId],
  );
  const projectId = (await q(`insert into psa.projects (tenant, project_name, client_id) values ($1, 'Office move', $2) returning project_id`, [tenant, clientId])).project_id;
  const phaseId = (await q(`insert into psa.project_phases (tenant, project_id, phase_name) values ($1, $2, 'Cabling') returning phase_id`, [tenant, projectId])).phase_id;
  taskId = (
    await q(
      `insert into psa.project_tasks (tenant, project_id, phase_id, task_name, status_id)
       select $1, $2, $3, 'Patch panel', status_id from psa.statuses where tenant = $1 and status_type = 'project_task' and is_default
       returning task_id`,
      [tenant, projectId, phaseId],
    )
  ).task_id;
  await q(
    `insert into psa.tenant_external_entity_mappings (tenant, integration_type, alga_entity_type, alga_entity_id, external_entity_id)
     values ($1, 'webhook:harvest', 'project_task', $2, 'HV-TASK-9')`,
    [tenant, taskId],
  );
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

async function entries() {
  const { rows } = await db.pool.query(
    `select entry_id, user_id, work_item_type, ticket_id, task_id, work_date::text, start_time, end_time, duration_minutes, billable, notes
       from psa.time_entries where tenant = $1 order by created_at`,
    [tenant],
  );
  return rows;
}

describe('createTimeEntry', () => {
  let clockify: Awaited<ReturnType<typeof actionWebhook>>;
  beforeAll(async () => {
    clockify = await actionWebhook(db.pool, TENANT, 'clockify', 'createTimeEntry', clockifyMapping);
  });

  it('against a ticket by external id, the duration computed from start and end; a repeat is the same entry', async () => {
    const delivery = await deliver(db.pool, server.url, TENANT, clockify, clockifyEntry());
    expect(delivery.dispatch_status, delivery.error_message).toBe('dispatched');
    const entryId = delivery.handler_outcome.entry_id;
    expect(delivery.handler_outcome).toMatchObject({
      action: 'createTimeEntry', user_id: userId, work_item_type: 'ticket', ticket_id: ticketId, task_id: null,
      duration_minutes: 90, work_date: '2024-03-13', created: true,
    });
    expect(await entries()).toEqual([
      {
        entry_id: entryId, user_id: userId, work_item_type: 'ticket', ticket_id: ticketId, task_id: null, work_date: '2024-03-13',
        start_time: new Date('2024-03-13T14:00:00Z'), end_time: new Date('2024-03-13T15:30:00Z'), duration_minutes: 90, billable: true,
        notes: 'Replaced the failed disk on FS01 and rebuilt the array',
      },
    ]);
    const { rows: mappings } = await db.pool.query(
      `select alga_entity_id from psa.tenant_external_entity_mappings
        where tenant = $1 and integration_type = 'webhook:clockify' and alga_entity_type = 'time_entry' and external_entity_id = '65f1c2a9e4b0a1234567890a'`,
      [tenant],
    );
    expect(mappings).toEqual([{ alga_entity_id: entryId }]);

    const again = await deliver(db.pool, server.url, TENANT, clockify, clockifyEntry());
    expect(again.dispatch_status, again.error_message).toBe('dispatched');
    expect(again.handler_outcome).toMatchObject({ entry_id: entryId, created: false });
    expect(await entries()).toHaveLength(1);
  });

  it('against a project task by external id, with a duration and a work date', async () => {
    // A Harvest-style time entry: minutes logged for a day, no clock times.
    const hook = await actionWebhook(db.pool, TENANT, 'harvest', 'createTimeEntry', {
      user: 'user.email', duration_minutes: '$round(hours * 60)', work_date: 'spent_date', billable: 'billable',
      notes: 'notes', project_task: 'task.code',
    });
    const body = {
      id: 636709355, spent_date: '2024-03-14', hours: 0.75, notes: 'Labelled the patch panel ports', billable: false, is_locked: false,
      user: { id: 1782959, name: 'Jane Tech', email: 'jane.tech@msp.example' },
      task: { id: 8083365, name: 'Patch panel', code: 'HV-TASK-9' },
      project: { id: 14307913, name: 'Office move' },
    };
    const before = (await entries()).length;
    const delivery = await deliver(db.pool, server.url, TENANT, hook, body);
    expect(delivery.dispatch_status, delivery.error_message).toBe('dispatched');
    expect(delivery.handler_outcome).toMatchObject({ work_item_type: 'project_task', task_id: taskId, ticket_id: null, duration_minutes: 45, created: true });
    const rows = await entries();
    expect(rows).toHaveLength(before + 1);
    expect(rows.at(-1)).toEqual({
      entry_id: delivery.handler_outcome.entry_id, user_id: userId, work_item_type: 'project_task', ticket_id: null, task_id: taskId,
      work_date: '2024-03-14', start_time: null, end_time: null, duration_minutes: 45, billable: false, notes: 'Labelled the patch panel ports',
    });
  });

  async function failed(body: unknown) {
    const before = (await entries()).length;
    const delivery = await deliver(db.pool, server.url, TENANT, clockify, body);
    expect(delivery.dispatch_status).toBe('failed');
    expect(await entries()).toHaveLength(before);
    return delivery.error_message as string;
  }

  it('neither work item fails naming both fields', async () => {
    const message = await failed(clockifyEntry({ id: 'no-work-item', ticket: null }));
    expect(message).toContain('"ticket"');
    expect(message).toContain('"project_task"');
    expect(message).toContain('exactly one');
    expect(message).toContain('neither');
  });

  it('both work items fail naming both fields and values', async () => {
    const message = await failed(clockifyEntry({ id: 'two-work-items', task: 'HV-TASK-9' }));
    expect(message).toContain('"ticket"');
    expect(message).toContain('"project_task"');
    expect(message).toContain('"ALERT-42"');
    expect(message).toContain('"HV-TASK-9"');
  });

  it('an end before the start fails naming end_time', async () => {
    const message = await failed(clockifyEntry({ id: 'backwards', start: '2024-03-13T15:30:00Z', end: '2024-03-13T14:00:00Z' }));
    expect(message).toContain('"end_time"');
    expect(message).toContain('after start_time');
    expect(message).toContain('2024-03-13T14:00:00.000Z');
  });

  it('a duration that is not an int fails naming the field, the type and the value', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'clockify-duration', 'createTimeEntry', {
      user: 'user.email', duration_minutes: 'timeInterval.duration', ticket: 'customFieldValues[name="PSA ticket"].value',
    }, { mapping_namespace: 'clockify' });
    const before = (await entries()).length;
    const delivery = await deliver(db.pool, server.url, TENANT, hook, clockifyEntry({ id: 'iso-duration' }));
    expect(delivery.dispatch_status).toBe('failed');
    expect(delivery.error_message).toContain('"duration_minutes"');
    expect(delivery.error_message).toContain('expected int');
    expect(delivery.error_message).toContain('"PT1H30M"');
    expect(await entries()).toHaveLength(before);
  });

  it('an unknown user fails naming the field and the value', async () => {
    const message = await failed(clockifyEntry({ id: 'stranger', email: 'nobody@elsewhere.example' }));
    expect(message).toContain('"user"');
    expect(message).toContain('"nobody@elsewhere.example"');
  });

  it('an unknown ticket fails naming the external id and the entity type', async () => {
    const message = await failed(clockifyEntry({ id: 'lost-ticket', ticket: 'ALERT-404' }));
    expect(message).toContain('"ALERT-404"');
    expect(message).toContain('ticket');
    expect(message).toContain('webhook:clockify');
  });
});
