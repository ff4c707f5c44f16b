// The mutations that need Node: create (the secret is generated and sealed here, and returned
// once), update (validated with the zod schema as a whole) and rotate secret (a new secret
// returned once; the old ones keep verifying for a grace period). Each runs api/webhooks.ts
// inside the request's transaction, as intake_user with the request's settings, and stores
// through the SQL API, which checks the permission again. Also InboundWebhook.url.
import { sideEffectWithPgClientTransaction } from 'postgraphile/@dataplan/pg';
import { access, constant, context, lambda, object } from 'postgraphile/grafast';
import { extendSchema } from 'postgraphile/utils';
import type { Claims } from '../../api/auth.ts';
import { ApiRequestError } from '../../api/errors.ts';
import { createWebhookAs, rotateSecretAs, updateWebhookAs, webhookUrl, type WebhookServiceOptions } from '../../api/webhooks.ts';
import { authConfigSchema } from '../../core/webhookConfig.ts';

/** GraphQL input names → the zod schema's (and REST's) snake_case names. */
const FIELD_NAMES: Record<string, string> = {
  name: 'name',
  slug: 'slug',
  description: 'description',
  auth: 'auth',
  secret: 'secret',
  idempotency: 'idempotency',
  idempotencyWindowSeconds: 'idempotency_window_seconds',
  handler: 'handler',
  rateLimitPerMinute: 'rate_limit_per_minute',
  mappingNamespace: 'mapping_namespace',
  isActive: 'is_active',
};
/** on create, null means "the default" for these */
const DEFAULTED = new Set(['secret', 'idempotency_window_seconds', 'rate_limit_per_minute', 'is_active']);

function toConfig(input: Record<string, unknown>, creating: boolean): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const name = FIELD_NAMES[key];
    if (!name) continue; // clientMutationId, inboundWebhookId
    if (creating && value === null && DEFAULTED.has(name)) continue;
    config[name] = value;
  }
  return config;
}

interface RequestContext {
  intakeClaims?: Claims;
  intakeOptions?: WebhookServiceOptions;
}

function claimsAndOptions(ctx: RequestContext): { claims: Claims; options: WebhookServiceOptions } {
  if (!ctx.intakeClaims || !ctx.intakeOptions) throw new ApiRequestError('UNAUTHENTICATED', 'no API key');
  return { claims: ctx.intakeClaims, options: ctx.intakeOptions };
}

export const IntakeWebhookMutationsPlugin = extendSchema((build) => {
  const webhooks = build.pgResources['inbound_webhooks'];
  if (!webhooks) throw new Error('IntakeWebhookMutationsPlugin: the intake.inbound_webhooks resource is missing');
  const executor = webhooks.executor;

  /** the InboundWebhook for a stored row: re-read under the request's row-level security */
  const webhookFrom = ($row: any) =>
    webhooks.get({ tenant: access($row, 'tenant'), inbound_webhook_id: access($row, 'inbound_webhook_id') });

  return {
    typeDefs: /* GraphQL */ `
      input CreateInboundWebhookInput {
        clientMutationId: String
        name: String!
        """URL-safe, unique in the tenant: the last part of the webhook's URL."""
        slug: String!
        description: String
        """{auth_type: hmac_sha256|bearer|ip_allowlist|path_token, …scheme settings}, as for the CLI."""
        auth: JSON!
        """Bring the sender's own (e.g. Stripe's whsec_…); otherwise one is generated."""
        secret: String
        """{type: header|jsonata, value}"""
        idempotency: JSON
        """Default 86400."""
        idempotencyWindowSeconds: Int
        """{handler_type: direct_action, action, field_mapping: {field: JSONata}} or {handler_type: workflow, workflow_id}"""
        handler: JSON!
        """Default 600; 0 means no limit."""
        rateLimitPerMinute: Int
        mappingNamespace: String
        """Default true."""
        isActive: Boolean
      }

      type CreateInboundWebhookPayload {
        clientMutationId: String
        inboundWebhook: InboundWebhook
        """The URL to give the sender (for path_token webhooks it includes the token)."""
        url: String!
        """Shown this once and never again. Null for ip_allowlist webhooks."""
        secret: String
        query: Query
      }

      """The settings to change; those left out keep their values. auth and handler objects without a type merge into the current ones."""
      input InboundWebhookSettingsPatch {
        name: String
        slug: String
        description: String
        auth: JSON
        idempotency: JSON
        idempotencyWindowSeconds: Int
        handler: JSON
        rateLimitPerMinute: Int
        mappingNamespace: String
        isActive: Boolean
      }

      input UpdateInboundWebhookInput {
        clientMutationId: String
        inboundWebhookId: UUID!
        patch: InboundWebhookSettingsPatch!
      }

      type UpdateInboundWebhookPayload {
        clientMutationId: String
        inboundWebhook: InboundWebhook
        query: Query
      }

      input RotateInboundWebhookSecretInput {
        clientMutationId: String
        inboundWebhookId: UUID!
        """How long the current secret keeps working, so senders can be switched over. Default 86400 (24 h); 0 ends it now."""
        gracePeriodSeconds: Int
        """Bring the new secret; otherwise one is generated."""
        secret: String
      }

      type RotateInboundWebhookSecretPayload {
        clientMutationId: String
        inboundWebhook: InboundWebhook
        """The new secret: shown this once and never again."""
        secret: String!
        url: String!
        """When the secrets that were live before this rotation stop verifying."""
        previousSecretsExpireAt: Datetime!
        query: Query
      }

      extend type Mutation {
        """Creates an inbound webhook and returns its secret, once. Needs inbound_webhook:create."""
        createInboundWebhook(input: CreateInboundWebhookInput!): CreateInboundWebhookPayload
        """Changes a webhook's settings (not its auth type). Needs inbound_webhook:update."""
        updateInboundWebhook(input: UpdateInboundWebhookInput!): UpdateInboundWebhookPayload
        """Replaces the webhook's secret; the old one keeps working for the grace period. Needs inbound_webhook:update."""
        rotateInboundWebhookSecret(input: RotateInboundWebhookSecretInput!): RotateInboundWebhookSecretPayload
      }

      extend type InboundWebhook {
        """The URL senders post to (for path_token webhooks, without the token)."""
        url: String!
      }
    `,
    objects: {
      Mutation: {
        plans: {
          createInboundWebhook(_, fieldArgs) {
            const $input = fieldArgs.getRaw('input');
            const $result = sideEffectWithPgClientTransaction(executor, [$input, context()], async (client, [input, ctx]) => {
              const { claims, options } = claimsAndOptions(ctx as RequestContext);
              const created = await createWebhookAs(client, claims, options, toConfig(input as Record<string, unknown>, true));
              return { row: created.webhook, url: created.url, secret: created.secret };
            });
            return object({
              result: $result,
              clientMutationId: access($input, 'clientMutationId'),
            });
          },
          updateInboundWebhook(_, fieldArgs) {
            const $input = fieldArgs.getRaw('input');
            const $result = sideEffectWithPgClientTransaction(executor, [$input], async (client, [input]) => {
              const { inboundWebhookId, patch } = input as { inboundWebhookId: string; patch: Record<string, unknown> };
              return { row: await updateWebhookAs(client, inboundWebhookId, toConfig(patch, false)) };
            });
            return object({ result: $result, clientMutationId: access($input, 'clientMutationId') });
          },
          rotateInboundWebhookSecret(_, fieldArgs) {
            const $input = fieldArgs.getRaw('input');
            const $result = sideEffectWithPgClientTransaction(executor, [$input, context()], async (client, [input, ctx]) => {
              const { claims, options } = claimsAndOptions(ctx as RequestContext);
              const { inboundWebhookId, gracePeriodSeconds, secret } = input as {
                inboundWebhookId: string; gracePeriodSeconds?: number | null; secret?: string | null;
              };
              const rotated = await rotateSecretAs(client, claims, options, inboundWebhookId, { graceSeconds: gracePeriodSeconds, secret });
              return { row: rotated.webhook, secret: rotated.secret, url: rotated.url, until: rotated.previousSecretsExpireAt.toISOString() };
            });
            return object({ result: $result, clientMutationId: access($input, 'clientMutationId') });
          },
        },
      },
      CreateInboundWebhookPayload: {
        plans: {
          clientMutationId: ($payload: any) => $payload.get('clientMutationId'),
          inboundWebhook: ($payload: any) => webhookFrom(access($payload.get('result'), 'row')),
          url: ($payload: any) => access($payload.get('result'), 'url'),
          secret: ($payload: any) => access($payload.get('result'), 'secret'),
          query: () => constant(true),
        },
      },
      UpdateInboundWebhookPayload: {
        plans: {
          clientMutationId: ($payload: any) => $payload.get('clientMutationId'),
          inboundWebhook: ($payload: any) => webhookFrom(access($payload.get('result'), 'row')),
          query: () => constant(true),
        },
      },
      RotateInboundWebhookSecretPayload: {
        plans: {
          clientMutationId: ($payload: any) => $payload.get('clientMutationId'),
          inboundWebhook: ($payload: any) => webhookFrom(access($payload.get('result'), 'row')),
          secret: ($payload: any) => access($payload.get('result'), 'secret'),
          url: ($payload: any) => access($payload.get('result'), 'url'),
          previousSecretsExpireAt: ($payload: any) => access($payload.get('result'), 'until'),
          query: () => constant(true),
        },
      },
      InboundWebhook: {
        plans: {
          url($webhook: any) {
            const $slug = $webhook.get('slug');
            const $authType = $webhook.get('auth_type');
            const $authConfig = $webhook.get('auth_config');
            return lambda([$slug, $authType, $authConfig, context()], ([slug, authType, authConfig, ctx]) => {
              const { claims, options } = claimsAndOptions(ctx as RequestContext);
              const auth = authConfigSchema.parse({ ...(authConfig as object), auth_type: authType });
              return webhookUrl(options, claims.tenantSlug, auth, slug as string, null);
            });
          },
        },
      },
    },
  };
});
