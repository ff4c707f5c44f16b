// Outbound subscriptions as the database owner (the CLI; tests that seed): create, update and
// rotate with the same checks as the API (core/outboundSubscriptions.ts), the secret generated
// and sealed the same way, stored with the tenant given explicitly. The API's path is api/outbound.ts, through the SQL API.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { aesGcmBox } from './crypto.ts';
import { UserError } from './errors.ts';
import {
  checkSubscription, subscriptionConfigFromRow, subscriptionSecretContext, type OutboundPolicy, type SubscriptionConfig,
} from './outboundSubscriptions.ts';
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

/** The subscription of the named tenant, or a not_found UserError (the owner sees every tenant). */
export async function subscriptionOfTenant(db: pg.ClientBase, tenant: string, id: string): Promise<Record<string, any>> {
  const { rows } = await db.query('select * from intake.outbound_subscriptions where tenant = $1 and subscription_id = $2', [tenant, id]);
  if (!rows[0]) throw new UserError('not_found', `no outbound subscription ${id} in this tenant`);
  return rows[0];
}

/** A patch over the stored settings, checked whole as the API checks it; runs as the owner. */
export async function updateSubscription(
  db: pg.ClientBase, policy: OutboundPolicy, tenantSlug: string, id: string, patch: Partial<SubscriptionConfig>,
): Promise<Record<string, any>> {
  const tenant = await tenantIdForSlug(db, tenantSlug);
  const current = await subscriptionOfTenant(db, tenant, id);
  const config = await checkSubscription({ ...subscriptionConfigFromRow(current), ...patch }, policy);
  const { rows } = await db.query('select * from intake.update_outbound_subscription($1, $2)', [id, JSON.stringify(config)]);
  return rows[0];
}

export interface RotatedSecret {
  id: string;
  /** whsec_…, shown once */
  secret: string;
  /** until when the secrets before it still sign */
  previous_secrets_expire_at: Date;
}

/** A new signing secret; the live old ones sign for overlapSeconds more. Runs as the owner. */
export async function rotateSubscriptionSecret(
  db: pg.ClientBase, masterKey: Buffer, tenantSlug: string, id: string, overlapSeconds: number,
): Promise<RotatedSecret> {
  const tenant = await tenantIdForSlug(db, tenantSlug);
  await subscriptionOfTenant(db, tenant, id);
  const secret = newSigningSecret();
  const { rows } = await db.query<{ until: Date }>(
    'select intake_private.rotate_outbound_subscription_secret($1, $2, $3, $4) as until',
    [tenant, id, aesGcmBox(masterKey).seal(secret, subscriptionSecretContext(tenant, id)), overlapSeconds],
  );
  return { id, secret, previous_secrets_expire_at: rows[0]!.until };
}
