// Webhook input checks beyond the zod schema (the action's fields, every JSONata expression, a
// brought secret's shape), the columns a validated input is stored as, and secret generation
// and sealing: everything the management APIs need from webhook creation without the owner's
// transaction that core/webhooks.ts (the CLI's path) runs.
import { getAction } from '../worker/actions/index.ts';
import { aesGcmBox, generateSecret, hashToken, secretContext } from './crypto.ts';
import { UserError } from './errors.ts';
import { compileExpression, ExpressionError } from './jsonata.ts';
import { authNeedsSecret, formatZodError, webhookCreateSchema, type AuthType, type WebhookCreate } from './webhookConfig.ts';

function checkExpression(where: string, source: string): void {
  try {
    compileExpression(source, { timeoutMs: 1000 });
  } catch (error) {
    const position = error instanceof ExpressionError ? error.position : undefined;
    throw new UserError('bad_expression', `${where}: ${(error as Error).message}`, { field: where, position });
  }
}

function checkHandler(input: WebhookCreate): void {
  const handler = input.handler;
  if (handler.handler_type !== 'direct_action') return;
  const action = getAction(handler.action);
  if (!action) throw new UserError('validation', `handler.action: unknown action "${handler.action}" (see: intake actions list)`);
  const fields = new Map(action.definition.targetFields.map((f) => [f.name, f]));
  for (const [field, expression] of Object.entries(handler.field_mapping)) {
    if (!fields.has(field)) {
      throw new UserError('validation', `handler.field_mapping.${field}: ${handler.action} has no field "${field}" (fields: ${[...fields.keys()].join(', ')})`);
    }
    checkExpression(`handler.field_mapping.${field}`, expression);
  }
  const missing = action.definition.targetFields.filter((f) => f.required && !(f.name in handler.field_mapping));
  if (missing.length) {
    throw new UserError('validation', `handler.field_mapping: ${handler.action} needs a mapping for ${missing.map((f) => `"${f.name}"`).join(', ')}`);
  }
}

function checkSecret(input: WebhookCreate): void {
  if (input.secret === undefined) return;
  checkBroughtSecret(input.auth, input.secret);
}

/** A secret the caller brings (creation or rotation) must suit the auth scheme. */
export function checkBroughtSecret(auth: WebhookCreate['auth'], secret: string): void {
  if (!authNeedsSecret(auth.auth_type)) throw new UserError('validation', 'secret: ip_allowlist webhooks take no secret');
  if (secret.length < 16 || secret.length > 512) throw new UserError('validation', 'secret: must be 16 to 512 characters');
  if (auth.auth_type === 'hmac_sha256' && auth.signature_format === 'standard-webhooks') {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    if (key.length < 16) throw new UserError('validation', 'secret: standard-webhooks secrets are whsec_ followed by base64 of at least 16 bytes');
  }
}

/** Validates raw webhook input with the zod schema and every check the CLI applies. */
export function validateWebhookInput(raw: unknown): WebhookCreate {
  const parsed = webhookCreateSchema.safeParse(raw);
  if (!parsed.success) throw new UserError('validation', formatZodError(parsed.error));
  const input = parsed.data;
  checkHandler(input);
  checkSecret(input);
  if (input.idempotency?.type === 'jsonata') checkExpression('idempotency', input.idempotency.value);
  return input;
}

/** A validated input as the columns of intake.inbound_webhooks (the SQL API's p_config). */
export function webhookColumns(input: WebhookCreate): Record<string, unknown> {
  const { auth_type, ...authConfig } = input.auth;
  const { handler_type, ...handlerConfig } = input.handler;
  return {
    name: input.name,
    slug: input.slug,
    description: input.description ?? null,
    auth_type,
    auth_config: authConfig,
    idempotency_source: input.idempotency ?? null,
    idempotency_window_seconds: input.idempotency_window_seconds,
    handler_type,
    handler_config: handlerConfig,
    mapping_namespace: input.mapping_namespace ?? null,
    rate_limit_per_minute: input.rate_limit_per_minute,
    is_active: input.is_active,
  };
}

/** The create-shaped input a stored webhook row corresponds to (for updates by patch). */
export function webhookInputFromRow(row: {
  name: string; slug: string; description: string | null; auth_type: string; auth_config: Record<string, unknown>;
  idempotency_source: unknown; idempotency_window_seconds: number; handler_type: string;
  handler_config: Record<string, unknown>; mapping_namespace: string | null; rate_limit_per_minute: number; is_active: boolean;
}): Record<string, unknown> {
  return {
    name: row.name,
    slug: row.slug,
    description: row.description,
    auth: { ...row.auth_config, auth_type: row.auth_type },
    idempotency: row.idempotency_source ?? null,
    idempotency_window_seconds: row.idempotency_window_seconds,
    handler: { ...row.handler_config, handler_type: row.handler_type },
    mapping_namespace: row.mapping_namespace,
    rate_limit_per_minute: row.rate_limit_per_minute,
    is_active: row.is_active,
  };
}

/** A new secret in the shape the sender expects (null for ip_allowlist). */
export function newSecretFor(auth: WebhookCreate['auth']): string | null {
  if (!authNeedsSecret(auth.auth_type)) return null;
  return generateSecret(auth.auth_type === 'hmac_sha256' ? auth.signature_format : undefined);
}

export interface SealedSecret {
  kind: 'aes256gcm' | 'sha256';
  bytes: Buffer;
}

/**
 * The stored form of a secret: HMAC secrets sealed with AES-256-GCM bound to the tenant and
 * webhook (the receiver needs the plaintext back); bearer and path tokens as SHA-256 digests.
 */
export function sealSecret(masterKey: Buffer, tenant: string, inboundWebhookId: string, authType: AuthType, secret: string): SealedSecret {
  if (authType === 'hmac_sha256') {
    return { kind: 'aes256gcm', bytes: aesGcmBox(masterKey).seal(secret, secretContext(tenant, inboundWebhookId)) };
  }
  return { kind: 'sha256', bytes: hashToken(secret) };
}
