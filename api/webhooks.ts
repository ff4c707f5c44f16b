// The management operations that need Node between the API and SQL: create and update (zod
// validation, JSONata compilation) and secret rotation (a secret generated and sealed under
// INTAKE_MASTER_KEY, which SQL never sees). Each runs on a client that is already inside the
// request's transaction as intake_user with its claims set (PostGraphile's withPgClient, or
// api/settings.ts withClaims for REST), and stores through the SQL API, which checks the
// permission again: these functions add the Node-side checks, never replace the SQL ones.
import { randomUUID } from 'node:crypto';
import { UserError } from '../core/errors.ts';
import { authConfigSchema, mergeTypedSetting, type AuthType, type WebhookCreate } from '../core/webhookConfig.ts';
import { checkBroughtSecret, newSecretFor, sealSecret, validateWebhookInput, webhookColumns, webhookInputFromRow } from '../core/webhookRules.ts';
import { publicWebhookUrl } from '../core/webhooks.ts';
import type { Claims } from './auth.ts';
import { ApiRequestError } from './errors.ts';

/** What both pg's clients and PostGraphile's PgClient can do. */
export interface SqlClient {
  query<T = any>(config: { text: string; values?: unknown[] }): Promise<{ rows: readonly T[] }>;
}

export interface WebhookServiceOptions {
  masterKey: Buffer;
  publicUrl: string;
  /** INTAKE_JSONATA_TIMEOUT_MS, for dry runs (previewMapping); default 1000 */
  jsonataTimeoutMs?: number;
}

export const DEFAULT_GRACE_SECONDS = 86_400;

/** A webhook row as the SQL API returns it (intake.inbound_webhooks). */
export type WebhookRow = Record<string, any> & { tenant: string; inbound_webhook_id: string; slug: string; auth_type: AuthType };

/** FORBIDDEN unless the request's user holds inbound_webhook:<action> (the SQL functions check again). */
export async function requirePermission(client: SqlClient, action: string): Promise<void> {
  const { rows } = await client.query<{ ok: boolean }>({ text: `select intake.has_permission('inbound_webhook', $1) as ok`, values: [action] });
  if (!rows[0]?.ok) throw new ApiRequestError('FORBIDDEN', `permission denied: inbound_webhook:${action} is not granted to this user`);
}

/** The webhook as the request's role sees it (row-level security): NOT_FOUND in another tenant. */
export async function readWebhook(client: SqlClient, id: string): Promise<WebhookRow> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    throw new ApiRequestError('VALIDATION', `inboundWebhookId: not a uuid: "${id}"`);
  }
  const { rows } = await client.query<WebhookRow>({ text: 'select * from intake.inbound_webhooks where inbound_webhook_id = $1', values: [id] });
  if (!rows[0]) throw new ApiRequestError('NOT_FOUND', `inbound webhook ${id} not found`);
  return rows[0];
}

/** The webhook's URL, with the token for path_token webhooks when the token is at hand. */
export function webhookUrl(options: WebhookServiceOptions, tenantSlug: string, auth: WebhookCreate['auth'], slug: string, secret: string | null): string {
  let url = publicWebhookUrl(options.publicUrl, tenantSlug, slug);
  if (auth.auth_type === 'path_token' && secret !== null) url += `?${auth.query_param}=${encodeURIComponent(secret)}`;
  return url;
}

export interface CreatedWebhookResult {
  webhook: WebhookRow;
  url: string;
  /** shown once; null for ip_allowlist */
  secret: string | null;
}

export async function createWebhookAs(
  client: SqlClient,
  claims: Claims,
  options: WebhookServiceOptions,
  raw: unknown,
): Promise<CreatedWebhookResult> {
  await requirePermission(client, 'create');
  const input = validateWebhookInput(raw);
  const id = randomUUID();
  const secret = input.secret ?? newSecretFor(input.auth);
  const sealed = secret === null ? null : sealSecret(options.masterKey, claims.tenant, id, input.auth.auth_type, secret);
  const { rows } = await client.query<WebhookRow>({
    text: 'select * from intake.create_inbound_webhook($1, $2, $3, $4)',
    values: [id, JSON.stringify(webhookColumns(input)), sealed?.kind ?? null, sealed?.bytes ?? null],
  });
  const webhook = rows[0]!;
  return { webhook, secret, url: webhookUrl(options, claims.tenantSlug, input.auth, input.slug, secret) };
}

const PATCHABLE = new Set([
  'name', 'slug', 'description', 'auth', 'idempotency', 'idempotency_window_seconds', 'handler',
  'rate_limit_per_minute', 'mapping_namespace', 'is_active',
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Applies a patch to the stored configuration and validates the result as a whole. Top-level
 * keys replace; `auth` and `handler` objects without a type merge into the current ones (so
 * `{handler: {field_mapping: …}}` keeps the action), with one a type they replace.
 */
export function applyPatch(current: Record<string, unknown>, patch: Record<string, unknown>): WebhookCreate {
  for (const key of Object.keys(patch)) {
    if (key === 'secret') throw new UserError('validation', 'secret: rotate the secret instead (rotateInboundWebhookSecret)');
    if (!PATCHABLE.has(key)) throw new UserError('validation', `${key}: not a webhook setting`);
  }
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if ((key === 'auth' || key === 'handler') && isObject(value) && isObject(current[key])) {
      next[key] = mergeTypedSetting(current[key], value, key === 'auth' ? 'auth_type' : 'handler_type');
    } else {
      next[key] = value;
    }
  }
  return validateWebhookInput(next);
}

export async function updateWebhookAs(client: SqlClient, id: string, patch: unknown): Promise<WebhookRow> {
  await requirePermission(client, 'update');
  if (!isObject(patch)) throw new ApiRequestError('VALIDATION', 'patch: must be an object of settings to change');
  const current = await readWebhook(client, id);
  return storeWebhook(client, current, applyPatch(webhookInputFromRow(current as unknown as Parameters<typeof webhookInputFromRow>[0]), patch));
}

/** Stores a validated configuration over the current one (the auth type stays). */
export async function storeWebhook(client: SqlClient, current: WebhookRow, input: WebhookCreate): Promise<WebhookRow> {
  if (input.auth.auth_type !== current.auth_type) {
    throw new ApiRequestError('VALIDATION', `auth.auth_type: cannot change from ${current.auth_type} to ${input.auth.auth_type}; create a new webhook instead`);
  }
  const { rows } = await client.query<WebhookRow>({
    text: 'select * from intake.update_inbound_webhook($1, $2)',
    values: [current.inbound_webhook_id, JSON.stringify(webhookColumns(input))],
  });
  return rows[0]!;
}

export interface RotatedSecret {
  webhook: WebhookRow;
  /** shown once */
  secret: string;
  url: string;
  /** when the secrets that were live before this rotation stop verifying */
  previousSecretsExpireAt: Date;
}

export async function rotateSecretAs(
  client: SqlClient,
  claims: Claims,
  options: WebhookServiceOptions,
  id: string,
  request: { graceSeconds?: number | null; secret?: string | null } = {},
): Promise<RotatedSecret> {
  await requirePermission(client, 'update');
  const current = await readWebhook(client, id);
  const auth = authConfigSchema.parse({ ...current.auth_config, auth_type: current.auth_type });
  if (auth.auth_type === 'ip_allowlist') throw new ApiRequestError('VALIDATION', 'an ip_allowlist webhook has no secret to rotate');
  const graceSeconds = request.graceSeconds ?? DEFAULT_GRACE_SECONDS;
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > 30 * 86_400) {
    throw new ApiRequestError('VALIDATION', `gracePeriodSeconds: must be a whole number from 0 to 2592000 (30 days), got ${graceSeconds}`);
  }
  if (request.secret != null) checkBroughtSecret(auth, request.secret);
  const secret = request.secret ?? newSecretFor(auth)!;
  const sealed = sealSecret(options.masterKey, claims.tenant, id, auth.auth_type, secret);
  const { rows } = await client.query<{ until: Date }>({
    text: 'select intake.rotate_inbound_webhook_secret($1, $2, $3, $4) as until',
    values: [id, sealed.kind, sealed.bytes, graceSeconds],
  });
  return {
    webhook: current,
    secret,
    url: webhookUrl(options, claims.tenantSlug, auth, current.slug, secret),
    previousSecretsExpireAt: new Date(rows[0]!.until),
  };
}
