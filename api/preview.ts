// The dry run for the APIs (GraphQL previewMapping, REST preview-mapping): checks the read
// permission and the test input, then runs worker/preview.ts on the request's client (inside
// its transaction as intake_user: row-level security decides which webhook and delivery it
// may use). Nothing it does is kept (worker/preview.ts says how).
import type pg from 'pg';
import { previewMapping, type MappingPreview, type PreviewSource } from '../worker/preview.ts';
import { ApiRequestError } from './errors.ts';
import { requirePermission, type WebhookServiceOptions } from './webhooks.ts';

export interface PreviewRequest {
  handler: unknown;
  deliveryId?: string | null;
  /** present (even null) when the caller gave a body */
  body?: unknown;
  hasBody: boolean;
}

export const DEFAULT_JSONATA_TIMEOUT_MS = 1000;

export async function previewMappingAs(
  client: pg.ClientBase,
  options: Pick<WebhookServiceOptions, 'jsonataTimeoutMs'>,
  id: string,
  request: PreviewRequest,
): Promise<MappingPreview> {
  await requirePermission(client, 'read');
  if (request.handler === undefined || request.handler === null) {
    throw new ApiRequestError('VALIDATION', 'handler: the draft handler is required', { field: 'handler' });
  }
  if (request.deliveryId != null && request.hasBody) {
    throw new ApiRequestError('VALIDATION', 'deliveryId, body: give one test input, not both (neither: the captured sample)', { field: 'body' });
  }
  const source: PreviewSource = request.deliveryId != null
    ? { kind: 'delivery', deliveryId: request.deliveryId }
    : request.hasBody ? { kind: 'body', body: request.body } : { kind: 'sample' };
  return previewMapping(client, id, request.handler, source, { jsonataTimeoutMs: options.jsonataTimeoutMs ?? DEFAULT_JSONATA_TIMEOUT_MS });
}
