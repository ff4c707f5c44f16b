// The outbound mutations that need Node: create (the URL checked, the whsec_ secret generated,
// sealed and returned once), update (the whole result checked again) and rotate secret (a new
// secret returned once; the old ones keep signing for the overlap). Each runs api/outbound.ts
// inside the request's transaction as intake_user, and stores through the SQL API, which
// checks the permission again. Also Query.outboundEventTypes, the catalogue for the picker.
// The other outbound mutations are SQL functions exposed in graphql/smartTags.ts.
import { sideEffectWithPgClientTransaction } from 'postgraphile/@dataplan/pg';
import { access, constant, context, object } from 'postgraphile/grafast';
import { extendSchema } from 'postgraphile/utils';
import type { Claims } from '../../api/auth.ts';
import { ApiRequestError } from '../../api/errors.ts';
import { createSubscriptionAs, rotateSubscriptionSecretAs, updateSubscriptionAs, type OutboundServiceOptions } from '../../api/outbound.ts';
import { OUTBOUND_EVENT_TYPES } from '../../core/outboundEvents.ts';

/** GraphQL input names → the service's (and REST's) snake_case names. */
const FIELD_NAMES: Record<string, string> = {
  url: 'url',
  description: 'description',
  eventTypes: 'event_types',
  headers: 'headers',
  rateLimitPerMinute: 'rate_limit_per_minute',
  isActive: 'is_active',
};

function toConfig(input: Record<string, unknown>, creating: boolean): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const name = FIELD_NAMES[key];
    if (!name) continue; // clientMutationId, subscriptionId
    if (creating && value === null && name !== 'description' && name !== 'rate_limit_per_minute') continue;
    config[name] = value;
  }
  return config;
}

interface RequestContext {
  intakeClaims?: Claims;
  intakeOutbound?: OutboundServiceOptions;
}

function claimsAndOptions(ctx: RequestContext): { claims: Claims; options: OutboundServiceOptions } {
  if (!ctx.intakeClaims || !ctx.intakeOutbound) throw new ApiRequestError('UNAUTHENTICATED', 'no API key');
  return { claims: ctx.intakeClaims, options: ctx.intakeOutbound };
}

export const IntakeOutboundMutationsPlugin = extendSchema((build) => {
  const subscriptions = build.pgResources['outbound_subscriptions'];
  if (!subscriptions) throw new Error('IntakeOutboundMutationsPlugin: the intake.outbound_subscriptions resource is missing');
  const executor = subscriptions.executor;
  const subscriptionFrom = ($row: any) =>
    subscriptions.get({ tenant: access($row, 'tenant'), subscription_id: access($row, 'subscription_id') });

  return {
    typeDefs: /* GraphQL */ `
      """An event type a subscription can ask for, for the picker grouped by entity."""
      type OutboundEventType {
        """e.g. ticket.created"""
        name: String!
        """the part before the first dot: the picker's group"""
        entity: String!
        description: String!
      }

      input CreateOutboundSubscriptionInput {
        clientMutationId: String
        """https (http only when the operator allows it); must not be or resolve to a private address."""
        url: String!
        """Exact names, "entity.*" or "*"."""
        eventTypes: [String!]!
        description: String
        """{name: value}, sent with every attempt; names may not start with webhook-."""
        headers: JSON
        """Attempts per minute; null = no limit."""
        rateLimitPerMinute: Int
        """Default true."""
        isActive: Boolean
      }

      type CreateOutboundSubscriptionPayload {
        clientMutationId: String
        outboundSubscription: OutboundSubscription
        """The signing secret (whsec_…): shown this once and never again."""
        secret: String!
        query: Query
      }

      """The settings to change; those left out keep their values."""
      input OutboundSubscriptionSettingsPatch {
        url: String
        eventTypes: [String!]
        description: String
        headers: JSON
        rateLimitPerMinute: Int
        """true also clears an automatic disable (autoDisabledAt, disabledReason) and the failing streak."""
        isActive: Boolean
      }

      input UpdateOutboundSubscriptionInput {
        clientMutationId: String
        subscriptionId: UUID!
        patch: OutboundSubscriptionSettingsPatch!
      }

      type UpdateOutboundSubscriptionPayload {
        clientMutationId: String
        outboundSubscription: OutboundSubscription
        query: Query
      }

      input RotateOutboundSubscriptionSecretInput {
        clientMutationId: String
        subscriptionId: UUID!
        """How long the current secret keeps signing beside the new one. Default 86400 (24 h), at most 604800 (7 days); 0 ends it now."""
        overlapSeconds: Int
      }

      type RotateOutboundSubscriptionSecretPayload {
        clientMutationId: String
        outboundSubscription: OutboundSubscription
        """The new signing secret: shown this once and never again."""
        secret: String!
        """When the secrets that were live before this rotation stop signing."""
        previousSecretsExpireAt: Datetime!
        query: Query
      }

      extend type Query {
        """Every outbound event type, grouped by entity in this order."""
        outboundEventTypes: [OutboundEventType!]!
      }

      extend type Mutation {
        """Creates an outbound subscription and returns its signing secret, once. Needs outbound_webhook:create."""
        createOutboundSubscription(input: CreateOutboundSubscriptionInput!): CreateOutboundSubscriptionPayload
        """Changes a subscription's settings. Needs outbound_webhook:update."""
        updateOutboundSubscription(input: UpdateOutboundSubscriptionInput!): UpdateOutboundSubscriptionPayload
        """Adds a new signing secret; the old ones keep signing for the overlap. Needs outbound_webhook:update."""
        rotateOutboundSubscriptionSecret(input: RotateOutboundSubscriptionSecretInput!): RotateOutboundSubscriptionSecretPayload
      }
    `,
    objects: {
      Query: {
        plans: {
          outboundEventTypes() {
            return constant(OUTBOUND_EVENT_TYPES);
          },
        },
      },
      Mutation: {
        plans: {
          createOutboundSubscription(_, fieldArgs) {
            const $input = fieldArgs.getRaw('input');
            const $result = sideEffectWithPgClientTransaction(executor, [$input, context()], async (client, [input, ctx]) => {
              const { claims, options } = claimsAndOptions(ctx as RequestContext);
              const created = await createSubscriptionAs(client, claims.tenant, options, toConfig(input as Record<string, unknown>, true));
              return { row: created.subscription, secret: created.secret };
            });
            return object({ result: $result, clientMutationId: access($input, 'clientMutationId') });
          },
          updateOutboundSubscription(_, fieldArgs) {
            const $input = fieldArgs.getRaw('input');
            const $result = sideEffectWithPgClientTransaction(executor, [$input, context()], async (client, [input, ctx]) => {
              const { options } = claimsAndOptions(ctx as RequestContext);
              const { subscriptionId, patch } = input as { subscriptionId: string; patch: Record<string, unknown> };
              return { row: await updateSubscriptionAs(client, options, subscriptionId, toConfig(patch, false)) };
            });
            return object({ result: $result, clientMutationId: access($input, 'clientMutationId') });
          },
          rotateOutboundSubscriptionSecret(_, fieldArgs) {
            const $input = fieldArgs.getRaw('input');
            const $result = sideEffectWithPgClientTransaction(executor, [$input, context()], async (client, [input, ctx]) => {
              const { claims, options } = claimsAndOptions(ctx as RequestContext);
              const { subscriptionId, overlapSeconds } = input as { subscriptionId: string; overlapSeconds?: number | null };
              const rotated = await rotateSubscriptionSecretAs(client, claims.tenant, options, subscriptionId, overlapSeconds);
              return { row: rotated.subscription, secret: rotated.secret, until: rotated.previousSecretsExpireAt.toISOString() };
            });
            return object({ result: $result, clientMutationId: access($input, 'clientMutationId') });
          },
        },
      },
      CreateOutboundSubscriptionPayload: {
        plans: {
          clientMutationId: ($payload: any) => $payload.get('clientMutationId'),
          outboundSubscription: ($payload: any) => subscriptionFrom(access($payload.get('result'), 'row')),
          secret: ($payload: any) => access($payload.get('result'), 'secret'),
          query: () => constant(true),
        },
      },
      UpdateOutboundSubscriptionPayload: {
        plans: {
          clientMutationId: ($payload: any) => $payload.get('clientMutationId'),
          outboundSubscription: ($payload: any) => subscriptionFrom(access($payload.get('result'), 'row')),
          query: () => constant(true),
        },
      },
      RotateOutboundSubscriptionSecretPayload: {
        plans: {
          clientMutationId: ($payload: any) => $payload.get('clientMutationId'),
          outboundSubscription: ($payload: any) => subscriptionFrom(access($payload.get('result'), 'row')),
          secret: ($payload: any) => access($payload.get('result'), 'secret'),
          previousSecretsExpireAt: ($payload: any) => access($payload.get('result'), 'until'),
          query: () => constant(true),
        },
      },
    },
  };
});
