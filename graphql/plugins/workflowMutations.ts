// createWorkflow and updateWorkflow: Node validates the definition with validateDefinition (the
// check `intake workflow create` runs; every message names the step) inside the request's
// transaction as intake_user with the request's settings, and stores through the SQL API
// (intake.create_workflow / intake.update_workflow), which checks inbound_webhook:create /
// inbound_webhook:update itself and takes the tenant from the settings only. Listing workflows
// and runs is the generated `workflows` / `workflowRuns` (graphql/smartTags.ts).
import { sideEffectWithPgClientTransaction } from 'postgraphile/@dataplan/pg';
import { access, constant, object } from 'postgraphile/grafast';
import { extendSchema } from 'postgraphile/utils';
import { createWorkflowAs, updateWorkflowAs, type WorkflowInput } from '../../core/workflows.ts';

/** GraphQL input names → the SQL API's; clientMutationId and workflowId are not settings */
function toWorkflowInput(input: Record<string, unknown>, creating: boolean): WorkflowInput {
  const out: WorkflowInput = {};
  if ('name' in input) out.name = input.name;
  if ('description' in input) out.description = input.description;
  if ('definition' in input) out.definition = input.definition;
  // on create, a null isActive means the default (true)
  if ('isActive' in input && !(creating && input.isActive === null)) out.is_active = input.isActive;
  return out;
}

export const IntakeWorkflowMutationsPlugin = extendSchema((build) => {
  const workflows = build.pgResources['workflows'];
  if (!workflows) throw new Error('IntakeWorkflowMutationsPlugin: the intake.workflows resource is missing');
  const executor = workflows.executor;

  /** the Workflow for a stored row: re-read under the request's row-level security */
  const workflowFrom = ($row: any) =>
    workflows.get({ tenant: access($row, 'tenant'), workflow_id: access($row, 'workflow_id') });

  return {
    typeDefs: /* GraphQL */ `
      input CreateWorkflowInput {
        clientMutationId: String
        name: String!
        description: String
        """The steps, {"steps": [{"id", "action", "when", "input", "set", "end"}]} as in a definition file (docs/workflows.md); name and description are their own fields."""
        definition: JSON!
        """Default true."""
        isActive: Boolean
      }

      type CreateWorkflowPayload {
        clientMutationId: String
        workflow: Workflow
        query: Query
      }

      """The fields to change; those left out keep their values. A changed definition bumps the version (runs already started keep theirs)."""
      input UpdateWorkflowInput {
        clientMutationId: String
        workflowId: UUID!
        name: String
        """null clears it."""
        description: String
        """{"steps": [...]}, validated as on create."""
        definition: JSON
        isActive: Boolean
      }

      type UpdateWorkflowPayload {
        clientMutationId: String
        workflow: Workflow
        query: Query
      }

      extend type Mutation {
        """Creates a workflow, its definition validated as by \`intake workflow create\`. Needs inbound_webhook:create (workflows have no permission resource of their own)."""
        createWorkflow(input: CreateWorkflowInput!): CreateWorkflowPayload
        """Changes a workflow's name, description, definition or isActive. Needs inbound_webhook:update."""
        updateWorkflow(input: UpdateWorkflowInput!): UpdateWorkflowPayload
      }
    `,
    objects: {
      Mutation: {
        plans: {
          createWorkflow(_, fieldArgs) {
            const $input = fieldArgs.getRaw('input');
            const $row = sideEffectWithPgClientTransaction(executor, $input, async (client, input) =>
              createWorkflowAs(client, toWorkflowInput(input as Record<string, unknown>, true)),
            );
            return object({ row: $row, clientMutationId: access($input, 'clientMutationId') });
          },
          updateWorkflow(_, fieldArgs) {
            const $input = fieldArgs.getRaw('input');
            const $row = sideEffectWithPgClientTransaction(executor, $input, async (client, input) => {
              const raw = input as Record<string, unknown>;
              return updateWorkflowAs(client, raw.workflowId as string, toWorkflowInput(raw, false));
            });
            return object({ row: $row, clientMutationId: access($input, 'clientMutationId') });
          },
        },
      },
      CreateWorkflowPayload: {
        plans: {
          clientMutationId: ($payload: any) => $payload.get('clientMutationId'),
          workflow: ($payload: any) => workflowFrom($payload.get('row')),
          query: () => constant(true),
        },
      },
      UpdateWorkflowPayload: {
        plans: {
          clientMutationId: ($payload: any) => $payload.get('clientMutationId'),
          workflow: ($payload: any) => workflowFrom($payload.get('row')),
          query: () => constant(true),
        },
      },
    },
  };
});
