// The outbound-subscription operations that need Node between the API and SQL: create and update
// (core/outboundSubscriptions.ts checks, including the address the URL resolves to) and secret
// rotation (a whsec_ secret generated and sealed under INTAKE_MASTER_KEY, which SQL never sees).
// Like api/webhooks.ts, each runs on a client already inside the request's transaction as
// intake_user with its claims set, and stores through the SQL API, which checks the permission
// again. GraphQL (graphql/plugins/outboundMutations.ts), REST (api/rest/outbound.ts) and the CLI
// (as the owner, with the tenant set) call these.
import { randomUUID } from 'node:crypto';
import { aesGcmBox } from '../core/crypto.ts';
import {
  checkSubscription, DEFAULT_OVERLAP_SECONDS, MAX_OVERLAP_SECONDS, subscriptionConfigFromRow, subscriptionSecretContext, type OutboundPolicy, type SubscriptionConfig,
} from '../core/outboundSubscriptions.ts';
import { newSigningSecret } from '../core/standardWebhooks.ts';
import { ApiRequestError } from './errors.ts';
import type { SqlClient } from './webhooks.ts';

export interface OutboundServiceOptions {
  masterKey: Buffer;
  outbound: OutboundPolicy;
}


export type SubscriptionRow = Record<string, any> & { tenant: string; subscription_id: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** FORBIDDEN unless the request's user holds outbound_webhook:<action> (the SQL functions check again). */
export async function requireOutboundPermission(client: SqlClient, action: string): Promise<void> {
  const { rows } = await client.query<{ ok: boolean }>({ text: `select intake.has_permission('outbound_webhook', $1) as ok`, values: [action] });
  if (!rows[0]?.ok) throw new ApiRequestError('FORBIDDEN', `permission denied: outbound_webhook:${action} is not granted to this user`);
}

/** The subscription as the request's role sees it (row-level security): NOT_FOUND in another tenant. */
export async function readSubscription(client: SqlClient, id: string): Promise<SubscriptionRow> {
  if (!UUID.test(id)) throw new ApiRequestError('VALIDATION', `subscriptionId: not a uuid: "${id}"`, { field: 'subscriptionId' });
  const { rows } = await client.query<SubscriptionRow>({ text: 'select * from intake.outbound_subscriptions where subscription_id = $1', values: [id] });
  if (!rows[0]) throw new ApiRequestError('NOT_FOUND', `outbound subscription ${id} not found`);
  return rows[0];
}

function sealed(options: OutboundServiceOptions, tenant: string, id: string, secret: string): Buffer {
  return aesGcmBox(options.masterKey).seal(secret, subscriptionSecretContext(tenant, id));
}

export interface CreatedSubscription {
  subscription: SubscriptionRow;
  /** whsec_…, shown once */
  secret: string;
}

export async function createSubscriptionAs(client: SqlClient, tenant: string, options: OutboundServiceOptions, raw: unknown): Promise<CreatedSubscription> {
  await requireOutboundPermission(client, 'create');
  const config = await checkSubscription(raw, options.outbound);
  const id = randomUUID();
  const secret = newSigningSecret();
  const { rows } = await client.query<SubscriptionRow>({
    text: 'select * from intake.create_outbound_subscription($1, $2, $3)',
    values: [id, JSON.stringify(config), sealed(options, tenant, id, secret)],
  });
  return { subscription: rows[0]!, secret };
}

const PATCHABLE = new Set(['url', 'description', 'event_types', 'headers', 'rate_limit_per_minute', 'is_active']);

export async function updateSubscriptionAs(client: SqlClient, options: OutboundServiceOptions, id: string, patch: unknown): Promise<SubscriptionRow> {
  await requireOutboundPermission(client, 'update');
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new ApiRequestError('VALIDATION', 'patch: must be an object of settings to change', { field: 'patch' });
  }
  for (const key of Object.keys(patch)) {
    if (!PATCHABLE.has(key)) throw new ApiRequestError('VALIDATION', `${key}: not a subscription setting`, { field: key });
  }
  const current = await readSubscription(client, id);
  const next: SubscriptionConfig = { ...subscriptionConfigFromRow(current), ...(patch as Partial<SubscriptionConfig>) };
  const config = await checkSubscription(next, options.outbound);
  const { rows } = await client.query<SubscriptionRow>({
    text: 'select * from intake.update_outbound_subscription($1, $2)',
    values: [id, JSON.stringify(config)],
  });
  return rows[0]!;
}

export interface RotatedSubscriptionSecret {
  subscription: SubscriptionRow;
  secret: string;
  previousSecretsExpireAt: Date;
}

export async function rotateSubscriptionSecretAs(
  client: SqlClient, tenant: string, options: OutboundServiceOptions, id: string, overlapSeconds?: number | null,
): Promise<RotatedSubscriptionSecret> {
  await requireOutboundPermission(client, 'update');
  const overlap = overlapSeconds ?? DEFAULT_OVERLAP_SECONDS;
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > MAX_OVERLAP_SECONDS) {
    throw new ApiRequestError('VALIDATION', `overlapSeconds: must be a whole number from 0 to ${MAX_OVERLAP_SECONDS} (7 days), got ${overlap}`, { field: 'overlapSeconds' });
  }
  await readSubscription(client, id);
  const secret = newSigningSecret();
  const { rows } = await client.query<{ until: Date }>({
    text: 'select intake.rotate_outbound_subscription_secret($1, $2, $3) as until',
    values: [id, sealed(options, tenant, id, secret), overlap],
  });
  const subscription = await readSubscription(client, id);
  return { subscription, secret, previousSecretsExpireAt: new Date(rows[0]!.until) };
}
