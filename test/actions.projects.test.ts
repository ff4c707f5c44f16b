// Project task actions end to end (signed request in, rows out), driven by GitHub issue events:
// createProjectTask puts an opened issue in the repository's project, in the phase named after
// its milestone, with the default status; a repeat is the same task. updateProjectTaskStatusByExternalId
// closes it (completed_at set) and reopens it (cleared). Bad values and unknown ids fail naming them.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { actionWebhook, deliver } from './support/inbound.ts';
import { makeTenant, startTestServer, type TestServer } from './support/server.ts';

const TENANT = 'projects';
const opened = JSON.parse(readFileSync(new URL('./fixtures/samples/github-issues.opened.json', import.meta.url), 'utf8')) as Record<string, any>;
const ISSUE_ID = String(opened.issue.id); // 444500041

/** The sample event with issue fields changed. */
function issueEvent(action: string, issue: Record<string, unknown> = {}) {
  return { ...opened, action, issue: { ...opened.issue, ...issue } };
}

const createMapping = {
  project: 'repository.full_name',
  task_name: 'issue.title',
  description: 'issue.body',
  phase: 'issue.milestone.title',
  assigned_to: '$lowercase(issue.assignee.login) & "@msp.example"',
  due_date: 'issue.milestone.due_on',
  external_id: 'issue.id',
};

let db: TestDatabase;
let server: TestServer;
let tenant: string;
let userId: string;
let projectId: string;
let phaseIds: Record<string, string>;
let createHook: Awaited<ReturnType<typeof actionWebhook>>;
let statusHook: Awaited<ReturnType<typeof actionWebhook>>;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  tenant = await makeTenant(db.pool, TENANT);
  const q = async (sql: string, params: unknown[]) => (await db.pool.query(sql, params)).rows[0];
  userId = (await q(`insert into psa.users (tenant, email, display_name) values ($1, 'codertocat@msp.example', 'Coder Tocat') returning user_id`, [tenant])).user_id;
  const clientId = (await q(`insert into psa.clients (tenant, client_name) values ($1, 'Hello World Inc') returning client_id`, [tenant])).client_id;
  projectId = (await q(`insert into psa.projects (tenant, project_name, client_id) values ($1, 'Hello World website', $2) returning project_id`, [tenant, clientId])).project_id;
  phaseIds = {};
  for (const [i, name] of ['Discovery', 'V1.0', 'V2.0'].entries()) {
    phaseIds[name] = (await q(`insert into psa.project_phases (tenant, project_id, phase_name, order_number) values ($1, $2, $3, $4) returning phase_id`, [tenant, projectId, name, i])).phase_id;
  }
  // Another project with a phase of the same name: the task must land in its own project's phase.
  const other = (await q(`insert into psa.projects (tenant, project_name, client_id) values ($1, 'Other', $2) returning project_id`, [tenant, clientId])).project_id;
  await q(`insert into psa.project_phases (tenant, project_id, phase_name, order_number) values ($1, $2, 'v1.0', -1) returning phase_id`, [tenant, other]);
  // The repository is known to the GitHub webhooks' shared namespace as this project.
  await q(
    `insert into psa.tenant_external_entity_mappings (tenant, integration_type, alga_entity_type, alga_entity_id, external_entity_id)
     values ($1, 'webhook:github', 'project', $2, 'Codertocat/Hello-World') returning id`,
    [tenant, projectId],
  );
  createHook = await actionWebhook(db.pool, TENANT, 'github', 'createProjectTask', createMapping);
  statusHook = await actionWebhook(db.pool, TENANT, 'github-issue-state', 'updateProjectTaskStatusByExternalId', {
    external_id: 'issue.id',
    status: 'issue.state = "closed" ? "Done" : "In Progress"',
  }, { mapping_namespace: 'github' });
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

async function tasks() {
  const { rows } = await db.pool.query(
    `select t.task_id, t.project_id, t.phase_id, t.task_name, t.description, s.name as status, t.status_type, t.assigned_to,
            t.estimated_hours, t.due_date::text, t.completed_at
       from psa.project_tasks t join psa.statuses s on s.tenant = t.tenant and s.status_id = t.status_id
      where t.tenant = $1 order by t.created_at`,
    [tenant],
  );
  return rows;
}

describe('createProjectTask', () => {
  it('an opened issue becomes a task in its milestone\'s phase, default status; a repeat is the same task', async () => {
    const delivery = await deliver(db.pool, server.url, TENANT, createHook, opened);
    expect(delivery.dispatch_status, delivery.error_message).toBe('dispatched');
    const taskId = delivery.handler_outcome.task_id;
    expect(delivery.handler_outcome).toMatchObject({
      action: 'createProjectTask', project_id: projectId, phase_id: phaseIds['V1.0'], status: 'To Do', completed_at: null, created: true,
    });
    expect(await tasks()).toEqual([
      {
        task_id: taskId, project_id: projectId, phase_id: phaseIds['V1.0'], task_name: 'Spelling error in the README file',
        description: "It looks like you accidently spelled 'commit' with two 't's.", status: 'To Do', status_type: 'project_task',
        assigned_to: userId, estimated_hours: null, due_date: '2019-05-23', completed_at: null,
      },
    ]);
    const { rows: mappings } = await db.pool.query(
      `select alga_entity_id from psa.tenant_external_entity_mappings
        where tenant = $1 and integration_type = 'webhook:github' and alga_entity_type = 'project_task' and external_entity_id = $2`,
      [tenant, ISSUE_ID],
    );
    expect(mappings).toEqual([{ alga_entity_id: taskId }]);

    const again = await deliver(db.pool, server.url, TENANT, createHook, opened);
    expect(again.dispatch_status, again.error_message).toBe('dispatched');
    expect(again.handler_outcome).toMatchObject({ task_id: taskId, project_id: projectId, created: false });
    expect(await tasks()).toHaveLength(1);
  });

  it('a named status and estimate, no phase; a closed status sets completed_at', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'github-estimates', 'createProjectTask', {
      project: 'repository.full_name', task_name: 'issue.title', status: '"done"', estimated_hours: '1.5', external_id: 'issue.node_id',
    }, { mapping_namespace: 'github' });
    const delivery = await deliver(db.pool, server.url, TENANT, hook, issueEvent('opened', { node_id: 'I_estimate', title: 'Fix typo' }));
    expect(delivery.dispatch_status, delivery.error_message).toBe('dispatched');
    const row = (await tasks()).find((t) => t.task_id === delivery.handler_outcome.task_id);
    expect(row).toMatchObject({ task_name: 'Fix typo', phase_id: null, status: 'Done', estimated_hours: '1.50', assigned_to: null });
    expect(row.completed_at).toBeInstanceOf(Date);
  });

  async function failed(hook: { secret: string | null; url: string }, body: unknown) {
    const before = (await tasks()).length;
    const delivery = await deliver(db.pool, server.url, TENANT, hook, body);
    expect(delivery.dispatch_status).toBe('failed');
    expect(await tasks()).toHaveLength(before);
    return delivery.error_message as string;
  }

  it('a task name that is not a string fails naming the field, the type and the value', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'github-bad-name', 'createProjectTask', {
      project: 'repository.full_name', task_name: 'issue.labels[0]',
    }, { mapping_namespace: 'github' });
    const message = await failed(hook, opened);
    expect(message).toContain('"task_name"');
    expect(message).toContain('expected string');
    expect(message).toContain('an object');
  });

  it('a negative estimate fails naming the field and the value', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'github-negative', 'createProjectTask', {
      project: 'repository.full_name', task_name: 'issue.title', estimated_hours: '-2',
    }, { mapping_namespace: 'github' });
    const message = await failed(hook, opened);
    expect(message).toContain('"estimated_hours"');
    expect(message).toContain('from 0');
    expect(message).toContain('got -2');
  });

  it('a milestone that is no phase of the project fails listing its phases', async () => {
    const message = await failed(createHook, issueEvent('opened', { id: 1001, milestone: { ...opened.issue.milestone, title: 'v9.9' } }));
    expect(message).toContain('"phase"');
    expect(message).toContain('"v9.9"');
    expect(message).toContain('Discovery, V1.0, V2.0');
  });

  it('an unknown project fails naming the external id and the entity type', async () => {
    const message = await failed(createHook, { ...issueEvent('opened', { id: 1002 }), repository: { ...opened.repository, full_name: 'Codertocat/Unknown' } });
    expect(message).toContain('"project"');
    expect(message).toContain('"Codertocat/Unknown"');
    expect(message).toContain('project');
    expect(message).toContain('webhook:github');
  });
});

describe('updateProjectTaskStatusByExternalId', () => {
  it('closing the issue moves the task to Done and sets completed_at; reopening clears it', async () => {
    const taskId = (await tasks()).find((t) => t.task_name === 'Spelling error in the README file')?.task_id;
    expect(taskId).toBeDefined();

    const started = Date.now();
    const closed = await deliver(db.pool, server.url, TENANT, statusHook, issueEvent('closed', { state: 'closed', closed_at: '2019-05-16T10:00:00Z' }));
    expect(closed.dispatch_status, closed.error_message).toBe('dispatched');
    expect(closed.handler_outcome).toMatchObject({ task_id: taskId, previous_status: 'To Do', status: 'Done', changed: true });
    let row = (await tasks()).find((t) => t.task_id === taskId);
    expect(row.status).toBe('Done');
    expect(row.completed_at.getTime()).toBeGreaterThanOrEqual(started - 1000);
    expect(closed.handler_outcome.completed_at).toBe(row.completed_at.toISOString());

    const reopened = await deliver(db.pool, server.url, TENANT, statusHook, issueEvent('reopened', { state: 'open' }));
    expect(reopened.dispatch_status, reopened.error_message).toBe('dispatched');
    expect(reopened.handler_outcome).toMatchObject({ previous_status: 'Done', status: 'In Progress', completed_at: null });
    row = (await tasks()).find((t) => t.task_id === taskId);
    expect(row).toMatchObject({ status: 'In Progress', completed_at: null });
  });

  it('a status the mapping does not produce fails as required', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'github-state-reason', 'updateProjectTaskStatusByExternalId', {
      external_id: 'issue.id', status: 'issue.state_reason',
    }, { mapping_namespace: 'github' });
    const delivery = await deliver(db.pool, server.url, TENANT, hook, issueEvent('closed', { state: 'closed' }));
    expect(delivery.dispatch_status).toBe('failed');
    expect(delivery.error_message).toContain('"status"');
    expect(delivery.error_message).toContain('required');
  });

  it('an unknown status name fails listing the project-task statuses', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'github-labels', 'updateProjectTaskStatusByExternalId', {
      external_id: 'issue.id', status: 'issue.labels[0].name',
    }, { mapping_namespace: 'github' });
    const delivery = await deliver(db.pool, server.url, TENANT, hook, opened); // label "bug"
    expect(delivery.dispatch_status).toBe('failed');
    expect(delivery.error_message).toContain('"status"');
    expect(delivery.error_message).toContain('"bug"');
    expect(delivery.error_message).toContain('To Do, In Progress, Blocked, Done'.split(', ').sort().join(', '));
    expect(delivery.error_message).not.toContain('Waiting on Client'); // ticket statuses are not offered
  });

  it('an unknown issue fails naming the external id and the entity type', async () => {
    const delivery = await deliver(db.pool, server.url, TENANT, statusHook, issueEvent('closed', { id: 999999, state: 'closed' }));
    expect(delivery.dispatch_status).toBe('failed');
    expect(delivery.error_message).toContain('"999999"');
    expect(delivery.error_message).toContain('project_task');
    expect(delivery.error_message).toContain('webhook:github');
  });
});
