// Creating a webhook: validate (the zod schema, the action's fields, every JSONata expression),
// generate or take the secret, and store config and secret in one transaction. The secret is
// returned here once and never again.
import type pg from 'pg';
import { UserError } from './errors.ts';
import { tenantIdForSlug } from './tenants.ts';
import type { WebhookCreateInput } from './webhookConfig.ts';
import { newSecretFor, sealSecret, validateWebhookInput, webhookColumns } from './webhookRules.ts';
import { requireWorkflow } from './workflows.ts';

export interface CreatedWebhook {
  id: string;
  url: string;
  /** shown once; null for ip_allowlist */
  secret: string | null;
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
  const input = validateWebhookInput(raw);
  const tenant = await tenantIdForSlug(db, tenantSlug);
  if (input.handler.handler_type === 'workflow') await requireWorkflow(db, tenant, input.handler.workflow_id, tenantSlug);
  const columns = webhookColumns(input);
  const secret = input.secret ?? newSecretFor(input.auth);

  await db.query('begin');
  try {
    const { rows } = await db.query(
      `insert into intake.inbound_webhooks
         (tenant, name, slug, description, auth_type, auth_config, idempotency_source, idempotency_window_seconds,
          handler_type, handler_config, mapping_namespace, rate_limit_per_minute, is_active)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       returning inbound_webhook_id`,
      [
        tenant, columns.name, columns.slug, columns.description, columns.auth_type, JSON.stringify(columns.auth_config),
        columns.idempotency_source ? JSON.stringify(columns.idempotency_source) : null, columns.idempotency_window_seconds,
        columns.handler_type, JSON.stringify(columns.handler_config), columns.mapping_namespace, columns.rate_limit_per_minute,
        columns.is_active,
      ],
    );
    const id = rows[0].inbound_webhook_id as string;
    if (secret !== null) {
      const sealed = sealSecret(masterKey, tenant, id, input.auth.auth_type, secret);
      await db.query(
        `insert into intake_private.inbound_webhook_secrets (tenant, inbound_webhook_id, kind, secret) values ($1, $2, $3, $4)`,
        [tenant, id, sealed.kind, sealed.bytes],
      );
    }
    await db.query('commit');
    let url = publicWebhookUrl(publicUrl, tenantSlug, input.slug);
    if (input.auth.auth_type === 'path_token' && secret !== null) {
      url += `?${input.auth.query_param}=${encodeURIComponent(secret)}`;
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
