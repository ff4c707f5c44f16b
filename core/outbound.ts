// Outbound subscriptions as the database owner (the CLI; tests that seed): the same checks as
// the API (core/outboundSubscriptions.ts), the secret generated and sealed the same way, stored
// with the tenant given explicitly. The API's path is api/outbound.ts, through the SQL API.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { aesGcmBox } from './crypto.ts';
import { checkSubscription, subscriptionSecretContext, type OutboundPolicy } from './outboundSubscriptions.ts';
import { newSigningSecret } from './standardWebhooks.ts';
import { tenantIdForSlug } from './tenants.ts';

export interface CreatedSubscription {
  id: string;
  /** whsec_…, shown once */
  secret: string;
}

/** Runs as the database owner; `db` must not be inside another transaction. */
export async function createSubscription(
  db: pg.ClientBase, masterKey: Buffer, policy: OutboundPolicy, tenantSlug: string, raw: unknown,
): Promise<CreatedSubscription> {
  const config = await checkSubscription(raw, policy);
  const tenant = await tenantIdForSlug(db, tenantSlug);
  const id = randomUUID();
  const secret = newSigningSecret();
  await db.query('begin');
  try {
    await db.query(
      `insert into intake.outbound_subscriptions (tenant, subscription_id, url, description, event_types, headers, rate_limit_per_minute, is_active)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [tenant, id, config.url, config.description, config.event_types, JSON.stringify(config.headers), config.rate_limit_per_minute, config.is_active],
    );
    await db.query(
      `insert into intake_private.outbound_subscription_secrets (tenant, subscription_id, secret) values ($1, $2, $3)`,
      [tenant, id, aesGcmBox(masterKey).seal(secret, subscriptionSecretContext(tenant, id))],
    );
    await db.query('commit');
  } catch (error) {
    await db.query('rollback').catch(() => {});
    throw error;
  }
  return { id, secret };
}
