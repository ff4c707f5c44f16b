// Workflows through the GraphQL management API over HTTP (issue 5): create and update with the
// CLI's validation (messages name the step), the inbound_webhook permissions (no workflow
// resource of its own), tenant isolation, and a webhook made for the new workflow starting a run
// from a signed request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { failure, graphqlClient, ok, userWithKey, type GraphqlRequest } from './support/graphql.ts';
import { postSigned } from './support/inbound.ts';
import { makeTenant, settledDelivery, startTestServer, waitFor, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
let admin: GraphqlRequest;
let viewer: GraphqlRequest;
let otherAdmin: GraphqlRequest;
let viewerUserId: string;

const WORKFLOW_FIELDS = 'workflowId name description definition version isActive';

const CREATE = `mutation ($input: CreateWorkflowInput!) {
  createWorkflow(input: $input) { clientMutationId workflow { ${WORKFLOW_FIELDS} } }
}`;
const UPDATE = `mutation ($input: UpdateWorkflowInput!) {
  updateWorkflow(input: $input) { workflow { ${WORKFLOW_FIELDS} } }
}`;

const ticketSteps = {
  steps: [
    { id: 'ticket', when: 'input.body.severity = "critical"', action: 'createTicket', input: { title: 'input.body.title' } },
  ],
};

async function create(request: GraphqlRequest, input: Record<string, unknown>) {
  return (await ok(request, CREATE, { input })).createWorkflow.workflow;
}

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  await makeTenant(db.pool, 'acme');
  await makeTenant(db.pool, 'globex');
  admin = graphqlClient(server.url, (await userWithKey(db.pool, 'acme', 'admin')).key);
  const viewerUser = await userWithKey(db.pool, 'acme', 'viewer');
  viewer = graphqlClient(server.url, viewerUser.key);
  viewerUserId = viewerUser.userId;
  otherAdmin = graphqlClient(server.url, (await userWithKey(db.pool, 'globex', 'admin')).key);
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

describe('create and update', () => {
  it('an admin creates a workflow; it is listed', async () => {
    const answer = await ok(admin, CREATE, {
      input: { clientMutationId: 'c1', name: 'Triage', description: 'critical alerts only', definition: ticketSteps },
    });
    expect(answer.createWorkflow.clientMutationId).toBe('c1');
    const workflow = answer.createWorkflow.workflow;
    expect(workflow).toEqual({
      workflowId: expect.any(String), name: 'Triage', description: 'critical alerts only',
      definition: ticketSteps, version: 1, isActive: true,
    });
    const listed = await ok(admin, `{ workflows(orderBy: NAME_ASC) { nodes { workflowId name version } } }`);
    expect(listed.workflows.nodes).toContainEqual({ workflowId: workflow.workflowId, name: 'Triage', version: 1 });
    // stored in the tenant of the API key
    const { rows } = await db.pool.query(
      `select t.slug from intake.workflows f join psa.tenants t on t.tenant = f.tenant where f.workflow_id = $1`, [workflow.workflowId]);
    expect(rows).toEqual([{ slug: 'acme' }]);
  });

  it('an update changes only the fields given; a changed definition bumps the version', async () => {
    const created = await create(admin, { name: 'Editable', definition: ticketSteps, isActive: false });
    expect(created).toMatchObject({ version: 1, isActive: false, description: null });

    const renamed = (await ok(admin, UPDATE, { input: { workflowId: created.workflowId, name: 'Edited', description: 'd' } })).updateWorkflow.workflow;
    expect(renamed).toEqual({ ...created, name: 'Edited', description: 'd' });

    const steps = { steps: [{ id: 'only', set: { seen: 'true' }, end: true }] };
    const edited = (await ok(admin, UPDATE, { input: { workflowId: created.workflowId, definition: steps, isActive: true } })).updateWorkflow.workflow;
    expect(edited).toEqual({ ...renamed, definition: steps, version: 2, isActive: true });

    // the same definition again is no change, so no new version
    const same = (await ok(admin, UPDATE, { input: { workflowId: created.workflowId, definition: steps } })).updateWorkflow.workflow;
    expect(same.version).toBe(2);

    const cleared = (await ok(admin, UPDATE, { input: { workflowId: created.workflowId, description: null } })).updateWorkflow.workflow;
    expect(cleared).toMatchObject({ description: null, name: 'Edited', version: 2 });
  });

  it('refuses a definition with an unknown action, naming the step, on create and on update', async () => {
    const bad = { steps: [{ id: 'first', set: { a: '1' } }, { id: 'explode', action: 'launchRockets', input: {} }] };
    const refused = await failure(admin, CREATE, { input: { name: 'Bad', definition: bad } });
    expect(refused.code).toBe('VALIDATION');
    expect(refused.message).toContain('step "explode": unknown action "launchRockets"');
    const { rows } = await db.pool.query(`select 1 from intake.workflows where name = 'Bad'`);
    expect(rows).toEqual([]);

    const workflow = await create(admin, { name: 'Keeps its steps', definition: ticketSteps });
    const onUpdate = await failure(admin, UPDATE, { input: { workflowId: workflow.workflowId, definition: bad } });
    expect(onUpdate.code).toBe('VALIDATION');
    expect(onUpdate.message).toContain('step "explode": unknown action "launchRockets"');
    const read = await ok(admin, `query ($id: UUID!) { workflow(workflowId: $id) { definition version } }`, { id: workflow.workflowId });
    expect(read.workflow).toEqual({ definition: ticketSteps, version: 1 });
  });

  it('refuses bad JSONata and duplicate step ids with the step named, and a name inside the definition', async () => {
    const jsonata = await failure(admin, CREATE, {
      input: { name: 'J', definition: { steps: [{ id: 'ticket', action: 'createTicket', input: { title: 'input.(' } }] } },
    });
    expect(jsonata).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('step "ticket": input.title:') });
    const duplicate = await failure(admin, CREATE, {
      input: { name: 'D', definition: { steps: [{ id: 'a', set: { x: '1' } }, { id: 'a', end: true }] } },
    });
    expect(duplicate).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('step "a": duplicate step id') });
    const named = await failure(admin, CREATE, { input: { name: 'N', definition: { name: 'N', ...ticketSteps } } });
    expect(named).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('definition.name') });
  });

  it('a second workflow with the same name is a CONFLICT', async () => {
    await create(admin, { name: 'Unique', definition: ticketSteps });
    const again = await failure(admin, CREATE, { input: { name: 'unique', definition: ticketSteps } });
    expect(again.code).toBe('CONFLICT');
    expect(again.message).toContain('"unique"');
  });
});

describe('who may', () => {
  it('a viewer gets FORBIDDEN creating or updating, and nothing changes', async () => {
    const workflow = await create(admin, { name: 'Not for viewers', definition: ticketSteps });
    const created = await failure(viewer, CREATE, { input: { name: 'By a viewer', definition: ticketSteps } });
    expect(created.code).toBe('FORBIDDEN');
    expect(created.message).toContain('inbound_webhook:create');
    const updated = await failure(viewer, UPDATE, { input: { workflowId: workflow.workflowId, name: 'Renamed by a viewer' } });
    expect(updated.code).toBe('FORBIDDEN');
    expect(updated.message).toContain('inbound_webhook:update');
    // FORBIDDEN before validation: a viewer learns nothing from a bad definition
    const invalid = await failure(viewer, UPDATE, { input: { workflowId: workflow.workflowId, definition: { steps: [] } } });
    expect(invalid.code).toBe('FORBIDDEN');
    const { rows } = await db.pool.query(`select name from intake.workflows where name ilike '%by a viewer'`);
    expect(rows).toEqual([]);
  });

  it('the SQL API checks the permission itself: a viewer cannot call it directly', async () => {
    const { rows: [acme] } = await db.pool.query(`select tenant from psa.tenants where slug = 'acme'`);
    const viewerUser = { tenant: acme.tenant, user_id: viewerUserId };
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      await client.query(`select set_config('role', 'intake_user', true), set_config('intake.tenant', $1, true), set_config('intake.user_id', $2, true)`,
        [viewerUser.tenant, viewerUser.user_id]);
      await expect(client.query(`select intake.create_workflow('Direct', null, '{"steps": []}', true)`))
        .rejects.toMatchObject({ code: '42501' });
      await client.query('rollback');
      await client.query('begin');
      await client.query(`select set_config('role', 'intake_user', true), set_config('intake.tenant', $1, true), set_config('intake.user_id', $2, true)`,
        [viewerUser.tenant, viewerUser.user_id]);
      await expect(client.query(`select intake.update_workflow(workflow_id, '{"name": "Direct"}') from intake.workflows limit 1`))
        .rejects.toMatchObject({ code: '42501' });
      await client.query('rollback');
      await client.query('begin');
      await client.query(`select set_config('role', 'intake_user', true), set_config('intake.tenant', $1, true), set_config('intake.user_id', $2, true)`,
        [viewerUser.tenant, viewerUser.user_id]);
      // and intake_user cannot write the table around it
      await expect(client.query(`insert into intake.workflows (tenant, name, definition) values ($1, 'Direct', '{"steps": []}')`, [viewerUser.tenant]))
        .rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.query('rollback').catch(() => {});
      client.release();
    }
  });

  it("another tenant's admin cannot update (NOT_FOUND) or see the workflow", async () => {
    const workflow = await create(admin, { name: 'Acme only', definition: ticketSteps });
    const foreign = await failure(otherAdmin, UPDATE, { input: { workflowId: workflow.workflowId, name: 'Taken over' } });
    expect(foreign.code).toBe('NOT_FOUND');
    const withDefinition = await failure(otherAdmin, UPDATE, { input: { workflowId: workflow.workflowId, definition: ticketSteps } });
    expect(withDefinition.code).toBe('NOT_FOUND');
    const listed = await ok(otherAdmin, `{ workflows { nodes { workflowId } } }`);
    expect(listed.workflows.nodes).toEqual([]);
    const { rows } = await db.pool.query(`select name, version from intake.workflows where workflow_id = $1`, [workflow.workflowId]);
    expect(rows).toEqual([{ name: 'Acme only', version: 1 }]);
  });
});

describe('a webhook for the new workflow', () => {
  it('starts a run of it when a signed request arrives; the run is listed', async () => {
    const workflow = await create(admin, { name: 'From GraphQL', definition: ticketSteps });
    const hook = await ok(admin, `mutation ($input: CreateInboundWebhookInput!) {
      createInboundWebhook(input: $input) { secret inboundWebhook { slug } }
    }`, {
      input: {
        name: 'Alerts to workflow', slug: 'wf-alerts', auth: { auth_type: 'hmac_sha256' }, rateLimitPerMinute: 0,
        handler: { handler_type: 'workflow', workflow_id: workflow.workflowId },
      },
    });
    const answer = await postSigned(server.url, 'acme', 'wf-alerts', hook.createInboundWebhook.secret, { severity: 'critical', title: 'Disk full' });
    expect(answer.status).toBe(200);
    const delivery = await settledDelivery(db.pool, answer.body.delivery_id);
    expect(delivery.dispatch_status).toBe('dispatched');
    const runId = delivery.handler_outcome.workflow_run_id;
    expect(delivery.handler_outcome).toEqual({ workflow_id: workflow.workflowId, workflow_run_id: expect.any(String) });

    const run = await waitFor(async () => {
      const data = await ok(admin, `query ($id: UUID!) { workflowRun(runId: $id) { status workflowVersion failedStep errorMessage stepResults workflow { workflowId } } }`, { id: runId });
      return ['succeeded', 'failed'].includes(data.workflowRun?.status) ? data.workflowRun : undefined;
    }, 15_000, 'the run to finish');
    expect(run).toMatchObject({ status: 'succeeded', workflowVersion: 1, failedStep: null, workflow: { workflowId: workflow.workflowId } });
    expect(run.stepResults.ticket).toMatchObject({ status: 'succeeded' });

    const runs = await ok(admin, `query ($id: UUID!, $delivery: UUID!) {
      workflowRuns(condition: {status: "succeeded"}) { nodes { runId } }
      workflow(workflowId: $id) { runs { nodes { runId status } } }
      inboundWebhookDelivery(deliveryId: $delivery) { workflowRuns { nodes { runId } } }
    }`, { id: workflow.workflowId, delivery: delivery.delivery_id });
    expect(runs.workflowRuns.nodes).toContainEqual({ runId });
    expect(runs.workflow.runs.nodes).toEqual([{ runId, status: 'succeeded' }]);
    expect(runs.inboundWebhookDelivery.workflowRuns.nodes).toEqual([{ runId }]);
  });
});
