// Issue 12's server side in GraphQL: Query.previewMapping (the dry run of a draft handler,
// api/preview.ts → worker/preview.ts), a webhook's configuration versions (currentVersion,
// versions, restoreInboundWebhookVersion; api/versions.ts). The names are the contract with the
// web editor (CONTRACT-mapping.md at the time of writing; docs/architecture.md keeps them).
// Every plan runs on the request's client, inside its transaction as intake_user with the
// request's settings, so row-level security and the permission checks apply as everywhere.
import type { NodePostgresPgClient } from 'postgraphile/@dataplan/pg/adaptors/pg';
import { loadManyWithPgClient, loadOneWithPgClient, sideEffectWithPgClientTransaction } from 'postgraphile/@dataplan/pg';
import { access, context, object } from 'postgraphile/grafast';
import { extendSchema } from 'postgraphile/utils';
import { previewMappingAs } from '../../api/preview.ts';
import { listVersions, restoreVersionAs, type VersionRow } from '../../api/versions.ts';

interface PreviewMappingInput {
  inboundWebhookId: string;
  handler: unknown;
  deliveryId?: string | null;
  body?: unknown;
}

const versionToGraphql = (row: VersionRow) => ({
  version: row.version,
  createdAt: new Date(row.created_at).toISOString(),
  createdBy: row.created_by,
  changes: row.changes,
  config: row.config,
  restoredFrom: row.restored_from,
});

export const IntakeMappingPreviewPlugin = extendSchema((build) => {
  const webhooks = build.pgResources['inbound_webhooks'];
  if (!webhooks) throw new Error('IntakeMappingPreviewPlugin: the intake.inbound_webhooks resource is missing');
  const executor = webhooks.executor;

  return {
    typeDefs: /* GraphQL */ `
      """The draft handler in the shape of updateInboundWebhook's patch.handler: {handler_type: direct_action, action, field_mapping: {field: JSONata}} or {handler_type: workflow, workflow_id}; without handler_type it merges into the current handler. An empty expression leaves its field unmapped."""
      input PreviewMappingInput {
        inboundWebhookId: UUID!
        handler: JSON!
        """Test input: one of this webhook's deliveries. Omit both deliveryId and body for the captured sample."""
        deliveryId: UUID
        """Or an explicit body (a pasted payload)."""
        body: JSON
      }

      """One target field of the action (or a mapped name the action does not have), on the test input."""
      type MappingPreviewField {
        """the action's field name"""
        name: String!
        """the JSONata expression as sent; null when the field is not mapped"""
        expression: String
        """what it evaluated to on the input (null when it failed or gave nothing)"""
        value: JSON
        """string, number, integer, boolean, array, object, null or missing"""
        valueType: String
        """null: fits the field; otherwise a sentence, e.g. expected int, got "abc" (string)"""
        problem: String
        """null, warning (e.g. no value on this input) or error (the dispatch would fail)"""
        severity: String
      }

      type MappingPreview {
        """sample, delivery or body"""
        source: String!
        deliveryId: UUID
        """the body evaluated against"""
        input: JSON
        fields: [MappingPreviewField!]!
        """create, update, fail, workflow or skip"""
        outcome: String!
        """e.g. "creates ticket", "updates ticket T-000123 matched by external id 'A-1'", "fails: …", "starts workflow 'Triage'" """
        summary: String!
        """true when saving this draft would dispatch this input successfully"""
        ok: Boolean!
        """workflow handler: the envelope the run would get; null for actions"""
        envelope: JSON
      }

      """A saved configuration of a webhook."""
      type InboundWebhookVersion {
        version: Int!
        createdAt: Datetime!
        """the email of the user who saved it (through this API, REST or the web UI); null for psql and the CLI"""
        createdBy: String
        """the settings that differ from the previous version, e.g. ["handler.field_mapping.title", "auth"]; empty for version 1"""
        changes: [String!]!
        """the full configuration of that version, in the shape of createInboundWebhook's input (credentials are never part of it)"""
        config: JSON!
        """set when this version was made by restoring an earlier one"""
        restoredFrom: Int
      }

      input RestoreInboundWebhookVersionInput {
        clientMutationId: String
        inboundWebhookId: UUID!
        version: Int!
      }

      extend type Query {
        """Dry run: evaluates the draft as the worker would, validates it against the action's fields, and runs the action in a transaction that is always rolled back (nothing is kept). Needs inbound_webhook:read."""
        previewMapping(input: PreviewMappingInput!): MappingPreview
      }

      extend type InboundWebhook {
        """The version of its configuration now (versions' newest)."""
        currentVersion: Int!
        """Every saved configuration, newest first."""
        versions(first: Int = 50): [InboundWebhookVersion!]!
      }

      extend type Mutation {
        """Saves an earlier version's configuration as a new version (whether the webhook is active stays as it is). Needs inbound_webhook:update."""
        restoreInboundWebhookVersion(input: RestoreInboundWebhookVersionInput!): UpdateInboundWebhookPayload
      }
    `,
    objects: {
      Query: {
        plans: {
          previewMapping(_, fieldArgs) {
            const $input = fieldArgs.getRaw('input');
            return loadOneWithPgClient(executor, [$input, context()], async (client, lookups) => {
              const answers = [];
              // one at a time: they share the request's client and its transaction
              for (const [input, ctx] of lookups) {
                const request = input as PreviewMappingInput;
                answers.push(await previewMappingAs((client as NodePostgresPgClient).rawClient, ctx.intakeOptions ?? {}, request.inboundWebhookId, {
                  handler: request.handler,
                  deliveryId: request.deliveryId ?? null,
                  body: request.body,
                  hasBody: request.body !== undefined && request.body !== null,
                }));
              }
              return answers;
            });
          },
        },
      },
      InboundWebhook: {
        plans: {
          currentVersion($webhook: any) {
            return $webhook.get('config_version');
          },
          versions($webhook: any, fieldArgs) {
            const $id = $webhook.get('inbound_webhook_id');
            const $first = fieldArgs.getRaw('first');
            return loadManyWithPgClient(executor, [$id, $first], async (client, lookups) => {
              const first = Math.max(...lookups.map(([, n]) => (n as number | null) ?? 50));
              const rows = await listVersions(client, [...new Set(lookups.map(([id]) => id as string))], first);
              return lookups.map(([id, n]) =>
                rows.filter((row) => row.inbound_webhook_id === id).slice(0, (n as number | null) ?? 50).map(versionToGraphql));
            });
          },
        },
      },
      Mutation: {
        plans: {
          restoreInboundWebhookVersion(_, fieldArgs) {
            const $input = fieldArgs.getRaw('input');
            const $result = sideEffectWithPgClientTransaction(executor, [$input], async (client, [input]) => {
              const { inboundWebhookId, version } = input as { inboundWebhookId: string; version: number };
              return { row: await restoreVersionAs(client, inboundWebhookId, version) };
            });
            return object({ result: $result, clientMutationId: access($input, 'clientMutationId') });
          },
        },
      },
    },
  };
});
