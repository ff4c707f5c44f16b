// Query.currentTenant: the signed-in user's tenant (workspace) with the effective
// inbound_webhooks_enabled flag, so a UI can say why inbound webhooks are off. Effective means
// what the receiver does (receiver/app.ts): the tenant's own setting, or the deployment's
// INTAKE_INBOUND_WEBHOOKS_ENABLED when it has none. Read under row-level security as the
// request's user (psa.tenants shows intake_user its own tenant only); psa is not an exposed
// schema, hence a plugin rather than a table type.
import { loadOneWithPgClient } from 'postgraphile/@dataplan/pg';
import { constant } from 'postgraphile/grafast';
import { extendSchema } from 'postgraphile/utils';

interface TenantRow {
  tenant: string;
  slug: string;
  name: string;
  inbound_webhooks_enabled: boolean | null;
}

export function makeCurrentTenantPlugin(inboundWebhooksEnabledDefault: boolean): GraphileConfig.Plugin {
  return extendSchema((build) => {
    const webhooks = build.pgResources['inbound_webhooks'];
    if (!webhooks) throw new Error('currentTenant: the intake.inbound_webhooks resource is missing');
    const executor = webhooks.executor;
    return {
      typeDefs: /* GraphQL */ `
        """The tenant (workspace) the request acts in."""
        type CurrentTenant {
          tenantId: UUID!
          slug: String!
          name: String!
          """Whether the receiver accepts this tenant's inbound webhooks now (when false it answers 404)."""
          inboundWebhooksEnabled: Boolean!
          """The tenant's own setting; null follows the deployment's default (INTAKE_INBOUND_WEBHOOKS_ENABLED)."""
          inboundWebhooksEnabledSetting: Boolean
        }

        extend type Query {
          """The tenant of the request's user (every user may read it)."""
          currentTenant: CurrentTenant
        }
      `,
      objects: {
        Query: {
          plans: {
            currentTenant() {
              return loadOneWithPgClient(executor, constant(true), async (client, lookups) => {
                const { rows } = await client.query<TenantRow>({
                  text: `select tenant, slug, name, inbound_webhooks_enabled from psa.tenants where tenant = intake.current_tenant()`,
                });
                const row = rows[0];
                const answer = row
                  ? {
                      tenantId: row.tenant,
                      slug: row.slug,
                      name: row.name,
                      inboundWebhooksEnabled: row.inbound_webhooks_enabled ?? inboundWebhooksEnabledDefault,
                      inboundWebhooksEnabledSetting: row.inbound_webhooks_enabled,
                    }
                  : null;
                return lookups.map(() => answer);
              });
            },
          },
        },
      },
    };
  });
}
