// The PostGraphile preset: the intake schema, served as the API key's user under row-level
// security (api/auth.ts → api/settings.ts → pgSettings), with the Node-side mutations of
// graphql/plugins/ and the exposure rules of graphql/smartTags.ts.
import { PgSimplifyInflectionPreset } from '@graphile/simplify-inflection';
import type pg from 'pg';
import { makePgService } from 'postgraphile/adaptors/pg';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { claimsOf, type SessionSettings } from '../api/auth.ts';
import { pgSettingsFor } from '../api/settings.ts';
import './context.ts';
import { maskError } from './errors.ts';
import { IntakeSmartTagsPlugin } from './smartTags.ts';
import { IntakeConditionsPreset } from './plugins/conditions.ts';
import { IntakeWebhookMutationsPlugin } from './plugins/webhookMutations.ts';
import { IntakeWorkflowMutationsPlugin } from './plugins/workflowMutations.ts';
import { IntakeOutboundMutationsPlugin } from './plugins/outboundMutations.ts';
import type { OutboundPolicy } from '../core/outboundSubscriptions.ts';
import { IntakeRegistryPlugin } from './plugins/registry.ts';
import { IntakeMappingPreviewPlugin } from './plugins/mappingPreview.ts';
import { IntakeEnumValuesPlugin } from './plugins/enumValues.ts';
import { makeCurrentTenantPlugin } from './plugins/currentTenant.ts';

export interface GraphqlOptions {
  pool: pg.Pool;
  masterKey: Buffer;
  publicUrl: string;
  /** INTAKE_JSONATA_TIMEOUT_MS, for dry runs */
  jsonataTimeoutMs?: number;
  /** accept the session cookie as well as API keys */
  sessions?: SessionSettings;
  /** INTAKE_INBOUND_WEBHOOKS_ENABLED: a tenant without its own setting follows it (default true) */
  inboundWebhooksEnabledDefault?: boolean;
  /** INTAKE_OUTBOUND_ALLOW_HTTP / _ALLOW_CIDRS: what a subscription's URL may be (default: https, public addresses) */
  outbound?: OutboundPolicy;
}

export const DEFAULT_OUTBOUND_POLICY: OutboundPolicy = { allowHttp: false, allowCidrs: [] };

export const GRAPHQL_PATH = '/graphql';
export const GRAPHIQL_PATH = '/graphiql';

export function makePreset(options: GraphqlOptions): GraphileConfig.Preset {
  return {
    extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset, IntakeConditionsPreset],
    plugins: [
      IntakeSmartTagsPlugin, IntakeWebhookMutationsPlugin, IntakeWorkflowMutationsPlugin, IntakeOutboundMutationsPlugin, IntakeRegistryPlugin, IntakeMappingPreviewPlugin, IntakeEnumValuesPlugin,
      makeCurrentTenantPlugin(options.inboundWebhooksEnabledDefault ?? true),
    ],
    pgServices: [makePgService({ pool: options.pool, schemas: ['intake'] })],
    schema: {
      // Nothing is writable by generated CRUD and no function is exposed unless graphql/smartTags.ts
      // says so: mutations are the SQL API's functions and graphql/plugins/{webhook,workflow}Mutations.ts.
      defaultBehavior: '-insert -update -delete -queryField -mutationField -typeField',
    },
    grafast: {
      explain: false,
      context(requestContext, args) {
        const claims = claimsOf(requestContext.node?.req);
        return {
          intakeClaims: claims,
          intakeOptions: { masterKey: options.masterKey, publicUrl: options.publicUrl, jsonataTimeoutMs: options.jsonataTimeoutMs },
          intakeOutbound: { masterKey: options.masterKey, outbound: options.outbound ?? DEFAULT_OUTBOUND_POLICY },
          pgSettings: { ...args.contextValue?.pgSettings, ...pgSettingsFor(claims) },
        };
      },
    },
    grafserv: {
      graphqlPath: GRAPHQL_PATH,
      graphiql: true,
      graphiqlPath: GRAPHIQL_PATH,
      graphiqlOnGraphQLGET: false,
      graphqlOverGET: false,
      websockets: false,
      maskError,
    },
  };
}
