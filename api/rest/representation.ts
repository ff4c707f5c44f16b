// Stored rows → the document's representations (InboundWebhookConfig, InboundWebhookDelivery).
// Neither carries a secret: secrets live in intake_private, which intake_user cannot read.
import { authConfigSchema } from '../../core/webhookConfig.ts';
import { previewToJson, type MappingPreview } from '../../worker/preview.ts';
import type { VersionRow } from '../versions.ts';
import { webhookUrl, type WebhookRow, type WebhookServiceOptions } from '../webhooks.ts';
import type { Schemas } from './http.ts';

export function iso(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

export function webhookToApi(row: WebhookRow, tenantSlug: string, options: WebhookServiceOptions): Schemas['InboundWebhookConfig'] {
  const auth = { ...row.auth_config, auth_type: row.auth_type } as Schemas['InboundWebhookAuthConfig'];
  return {
    id: row.inbound_webhook_id,
    name: row.name,
    slug: row.slug,
    description: row.description ?? null,
    url: webhookUrl(options, tenantSlug, authConfigSchema.parse(auth), row.slug, null),
    auth,
    idempotency: row.idempotency_source ?? null,
    idempotency_window_seconds: row.idempotency_window_seconds,
    handler: { ...row.handler_config, handler_type: row.handler_type } as Schemas['InboundWebhookHandlerConfig'],
    rate_limit_per_minute: row.rate_limit_per_minute,
    mapping_namespace: row.mapping_namespace ?? null,
    is_active: row.is_active,
    auto_disabled_at: iso(row.auto_disabled_at),
    sample_payload: row.sample_payload ?? null,
    sample_captured_at: iso(row.sample_captured_at),
    sample_capture_until: iso(row.sample_capture_until),
    config_version: row.config_version,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
  };
}

export type DeliveryRow = Record<string, any>;

export function deliveryToApi(row: DeliveryRow): Schemas['InboundWebhookDelivery'] {
  return {
    id: row.delivery_id,
    inbound_webhook_id: row.inbound_webhook_id,
    received_at: iso(row.received_at)!,
    request_method: row.request_method,
    request_path: row.request_path,
    request_headers: row.request_headers ?? {},
    request_body: row.request_body ?? null,
    request_body_text: row.request_body_text ?? null,
    body_format: row.body_format ?? null,
    content_type: row.content_type ?? null,
    source_ip: row.source_ip ?? null,
    user_agent: row.user_agent ?? null,
    idempotency_key: row.idempotency_key ?? null,
    auth_status: row.auth_status,
    dispatch_status: row.dispatch_status,
    duplicate_of: row.duplicate_of ?? null,
    handler_outcome: row.handler_outcome ?? null,
    error_message: row.error_message ?? null,
    retry_count: row.retry_count,
    response_status: row.response_status ?? null,
    response_body: row.response_body ?? null,
    duration_ms: row.duration_ms ?? null,
    dispatched_at: iso(row.dispatched_at),
    is_replay: row.is_replay,
    replayed_from: row.replayed_from ?? null,
    is_test: row.is_test,
    config_version: row.config_version ?? null,
    dispatch_config_version: row.dispatch_config_version ?? null,
  };
}

export function versionToApi(row: VersionRow): Schemas['InboundWebhookVersion'] {
  return {
    version: row.version,
    created_at: iso(row.created_at)!,
    created_by: row.created_by,
    changes: row.changes,
    config: row.config,
    restored_from: row.restored_from,
  };
}

/** The dry run's answer (worker/preview.ts gives it in this shape for psql too). */
export function previewToApi(preview: MappingPreview): Schemas['MappingPreview'] {
  return previewToJson(preview) as Schemas['MappingPreview'];
}
