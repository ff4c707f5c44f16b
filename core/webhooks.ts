// Creating a webhook: validate (the zod schema, the action's fields, every JSONata expression),
// generate or take the secret, and store config and secret in one transaction. The secret is
// returned here once and never again.
import type pg from 'pg';
import { getAction } from '../worker/actions/index.ts';
import { aesGcmBox, generateSecret, hashToken, secretContext } from './crypto.ts';
import { UserError } from './errors.ts';
import { compileExpression, ExpressionError } from './jsonata.ts';
import { tenantIdForSlug } from './tenants.ts';
import { requireWorkflow } from './workflows.ts';
import { authNeedsSecret, formatZodError, webhookCreateSchema, type WebhookCreate, type WebhookCreateInput } from './webhookConfig.ts';

export interface CreatedWebhook {
  id: string;
  url: string;
  /** shown once; null for ip_allowlist */
  secret: string | null;
}

function checkExpression(where: string, source: string): void {
  try {
    compileExpression(source, { timeoutMs: 1000 });
  } catch (error) {
    const position = error instanceof ExpressionError ? error.position : undefined;
    throw new UserError('bad_expression', `${where}: ${(error as Error).message}`, { field: where, position });
  }
}

/** A direct action's mapping; a workflow handler's workflow is checked once the tenant is known. */
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
  if (!authNeedsSecret(input.auth.auth_type)) throw new UserError('validation', 'secret: ip_allowlist webhooks take no secret');
  if (input.auth.auth_type === 'hmac_sha256' && input.auth.signature_format === 'standard-webhooks') {
    const key = Buffer.from(input.secret.replace(/^whsec_/, ''), 'base64');
    if (key.length < 16) throw new UserError('validation', 'secret: standard-webhooks secrets are whsec_ followed by base64 of at least 16 bytes');
  }
}

export function publicWebhookUrl(publicUrl: string, tenantSlug: string, webhookSlug: string): string {
  return `${publicUrl}/api/inbound/${tenantSlug}/${webhookSlug}`;
}

/** Runs as the database owner (CLI); `db` must not be inside another transaction. */
export async function createWebhook(
  db: pg.ClientBase,
  masterKey: Buffer,
  publicUrl: string,
  tenantSlug: string,
  raw: WebhookCreateInput | Record<string, unknown>,
): Promise<CreatedWebhook> {
  const parsed = webhookCreateSchema.safeParse(raw);
  if (!parsed.success) throw new UserError('validation', formatZodError(parsed.error));
  const input = parsed.data;
  checkHandler(input);
  checkSecret(input);
  if (input.idempotency?.type === 'jsonata') checkExpression('idempotency', input.idempotency.value);

  const tenant = await tenantIdForSlug(db, tenantSlug);
  if (input.handler.handler_type === 'workflow') await requireWorkflow(db, tenant, input.handler.workflow_id, tenantSlug);
  const { auth_type, ...authConfig } = input.auth;
  const { handler_type, ...handlerConfig } = input.handler;
  const secret = authNeedsSecret(auth_type)
    ? input.secret ?? generateSecret(input.auth.auth_type === 'hmac_sha256' ? input.auth.signature_format : undefined)
    : null;

  await db.query('begin');
  try {
    const { rows } = await db.query(
      `insert into intake.inbound_webhooks
         (tenant, name, slug, description, auth_type, auth_config, idempotency_source, idempotency_window_seconds,
          handler_type, handler_config, mapping_namespace, rate_limit_per_minute, is_active)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       returning inbound_webhook_id`,
      [
        tenant, input.name, input.slug, input.description ?? null, auth_type, JSON.stringify(authConfig),
        input.idempotency ? JSON.stringify(input.idempotency) : null, input.idempotency_window_seconds,
        handler_type, JSON.stringify(handlerConfig), input.mapping_namespace ?? null, input.rate_limit_per_minute, input.is_active,
      ],
    );
    const id = rows[0].inbound_webhook_id as string;
    if (secret !== null) {
      const hashed = auth_type === 'bearer' || auth_type === 'path_token';
      await db.query(
        `insert into intake_private.inbound_webhook_secrets (tenant, inbound_webhook_id, kind, secret) values ($1, $2, $3, $4)`,
        [tenant, id, hashed ? 'sha256' : 'aes256gcm', hashed ? hashToken(secret) : aesGcmBox(masterKey).seal(secret, secretContext(tenant, id))],
      );
    }
    await db.query('commit');
    let url = publicWebhookUrl(publicUrl, tenantSlug, input.slug);
    if (auth_type === 'path_token' && secret !== null) {
      const param = input.auth.auth_type === 'path_token' ? input.auth.query_param : 'token';
      url += `?${param}=${encodeURIComponent(secret)}`;
    }
    return { id, url, secret };
  } catch (error) {
    await db.query('rollback').catch(() => {});
    if ((error as { code?: string }).code === '23505') {
      throw new UserError('conflict', `tenant "${tenantSlug}" already has a webhook with slug "${input.slug}"`);
    }
    throw error;
  }
}
