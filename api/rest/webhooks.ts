// /api/v1/inbound-webhooks[/{id}[/rotate-secret|/test|/capture-sample]]: the same operations as
// the GraphQL mutations, through the same code (api/webhooks.ts) and SQL functions, in one
// transaction per request as intake_user with the API key's tenant and user (api/settings.ts).
import type pg from 'pg';
import { Router } from 'express';
import type { OutboundPolicy } from '../../core/outboundSubscriptions.ts';
import type { SessionSettings } from '../auth.ts';
import { ApiRequestError } from '../errors.ts';
import { withClaims } from '../settings.ts';
import {
  createWebhookAs, readWebhook, requirePermission, rotateSecretAs, updateWebhookAs,
  type WebhookRow, type WebhookServiceOptions,
} from '../webhooks.ts';
import { objectBody, onlyKeys, route, uuidParam } from './http.ts';
import { previewMappingAs } from '../preview.ts';
import { listVersions, restoreVersionAs } from '../versions.ts';
import { deliveryToApi, previewToApi, versionToApi, webhookToApi } from './representation.ts';

export interface RestOptions extends WebhookServiceOptions {
  pool: pg.Pool;
  /** accept the session cookie as well as API keys (api/auth.ts) */
  sessions?: SessionSettings;
  /** what an outbound subscription's URL may be (default: https, public addresses) */
  outbound?: OutboundPolicy;
}

function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

export function webhookRoutes(options: RestOptions): Router {
  const router = Router();
  const { pool } = options;

  route(router, 'get', '/api/v1/inbound-webhooks', async ({ claims }) => {
    const rows = await withClaims(pool, claims, async (client) => {
      await requirePermission(client, 'read');
      return (await client.query<WebhookRow>('select * from intake.inbound_webhooks order by name, inbound_webhook_id')).rows;
    });
    return { status: 200, body: { data: rows.map((row) => webhookToApi(row, claims.tenantSlug, options)) } };
  });

  route(router, 'post', '/api/v1/inbound-webhooks', async ({ claims, body }) => {
    const input = objectBody(body, true);
    const created = await withClaims(pool, claims, (client) => createWebhookAs(client, claims, options, input));
    return {
      status: 201,
      body: { webhook: webhookToApi(created.webhook, claims.tenantSlug, options), url: created.url, secret: created.secret },
    };
  });

  route(router, 'get', '/api/v1/inbound-webhooks/{id}', async ({ claims, params }) => {
    const id = uuidParam('id', params.id);
    const row = await withClaims(pool, claims, async (client) => {
      await requirePermission(client, 'read');
      return readWebhook(client, id);
    });
    return { status: 200, body: webhookToApi(row, claims.tenantSlug, options) };
  });

  route(router, 'put', '/api/v1/inbound-webhooks/{id}', async ({ claims, params, body }) => {
    const id = uuidParam('id', params.id);
    const patch = objectBody(body, true);
    const row = await withClaims(pool, claims, (client) => updateWebhookAs(client, id, patch));
    return { status: 200, body: webhookToApi(row, claims.tenantSlug, options) };
  });

  route(router, 'delete', '/api/v1/inbound-webhooks/{id}', async ({ claims, params }) => {
    const id = uuidParam('id', params.id);
    await withClaims(pool, claims, (client) => client.query('select 1 from intake.delete_inbound_webhook($1)', [id]));
    return { status: 204, body: undefined };
  });

  route(router, 'post', '/api/v1/inbound-webhooks/{id}/rotate-secret', async ({ claims, params, body }) => {
    const id = uuidParam('id', params.id);
    const input = objectBody(body, false);
    onlyKeys(input, ['grace_period_seconds', 'secret']);
    const grace = input.grace_period_seconds;
    if (grace !== undefined && !isInteger(grace, 0, 30 * 86_400)) {
      throw new ApiRequestError('VALIDATION', 'grace_period_seconds: must be a whole number from 0 to 2592000 (30 days)', { field: 'grace_period_seconds' });
    }
    if (input.secret !== undefined && typeof input.secret !== 'string') {
      throw new ApiRequestError('VALIDATION', 'secret: must be a string', { field: 'secret' });
    }
    const rotated = await withClaims(pool, claims, (client) =>
      rotateSecretAs(client, claims, options, id, { graceSeconds: grace as number | undefined, secret: input.secret as string | undefined }),
    );
    return {
      status: 200,
      body: {
        webhook: webhookToApi(rotated.webhook, claims.tenantSlug, options),
        secret: rotated.secret,
        url: rotated.url,
        previous_secrets_expire_at: rotated.previousSecretsExpireAt.toISOString(),
      },
    };
  });

  route(router, 'post', '/api/v1/inbound-webhooks/{id}/test', async ({ claims, params, body }) => {
    const id = uuidParam('id', params.id);
    const input = objectBody(body, true);
    onlyKeys(input, ['body', 'headers']);
    if (!('body' in input)) throw new ApiRequestError('VALIDATION', 'body.body: the JSON body to deliver is required', { field: 'body' });
    const headers = input.headers ?? {};
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers) || Object.values(headers).some((v) => typeof v !== 'string')) {
      throw new ApiRequestError('VALIDATION', 'headers: must be an object of header name to string value', { field: 'headers' });
    }
    const row = await withClaims(pool, claims, async (client) => {
      const { rows } = await client.query('select * from intake.send_test_delivery($1, $2::jsonb, $3::jsonb)', [
        id, JSON.stringify(input.body ?? null), JSON.stringify(headers),
      ]);
      return rows[0];
    });
    return { status: 202, body: deliveryToApi(row) };
  });

  route(router, 'post', '/api/v1/inbound-webhooks/{id}/capture-sample', async ({ claims, params, body }) => {
    const id = uuidParam('id', params.id);
    const input = objectBody(body, false);
    onlyKeys(input, ['minutes']);
    const minutes = input.minutes ?? 5;
    if (!isInteger(minutes, 1, 1440)) throw new ApiRequestError('VALIDATION', 'minutes: must be a whole number from 1 to 1440', { field: 'minutes' });
    const row = await withClaims(pool, claims, async (client) =>
      (await client.query<WebhookRow>('select * from intake.start_sample_capture($1, $2)', [id, minutes])).rows[0]!,
    );
    return { status: 200, body: webhookToApi(row, claims.tenantSlug, options) };
  });

  route(router, 'delete', '/api/v1/inbound-webhooks/{id}/capture-sample', async ({ claims, params }) => {
    const id = uuidParam('id', params.id);
    const row = await withClaims(pool, claims, async (client) =>
      (await client.query<WebhookRow>('select * from intake.clear_sample($1)', [id])).rows[0]!,
    );
    return { status: 200, body: webhookToApi(row, claims.tenantSlug, options) };
  });

  route(router, 'post', '/api/v1/inbound-webhooks/{id}/preview-mapping', async ({ claims, params, body }) => {
    const id = uuidParam('id', params.id);
    const input = objectBody(body, true);
    onlyKeys(input, ['handler', 'delivery_id', 'body']);
    const deliveryId = input.delivery_id === undefined || input.delivery_id === null ? null : uuidParam('delivery_id', input.delivery_id);
    // The transaction commits nothing: the dry run's writes are rolled back inside it.
    const preview = await withClaims(pool, claims, (client) =>
      previewMappingAs(client, options, id, { handler: input.handler, deliveryId, body: input.body, hasBody: 'body' in input }));
    return { status: 200, body: previewToApi(preview) };
  });

  route(router, 'get', '/api/v1/inbound-webhooks/{id}/versions', async ({ claims, params, query }) => {
    const id = uuidParam('id', params.id);
    const limit = query.limit === undefined ? 50 : Number(query.limit);
    const rows = await withClaims(pool, claims, async (client) => {
      await requirePermission(client, 'read');
      await readWebhook(client, id); // 404 for an id this tenant does not have
      return listVersions(client, [id], limit);
    }).catch((error: unknown) => {
      if (error instanceof ApiRequestError && error.details?.field === 'first') {
        throw new ApiRequestError('VALIDATION', error.message.replace(/^first:/, 'limit:'), { field: 'limit' });
      }
      throw error;
    });
    return { status: 200, body: { data: rows.map(versionToApi) } };
  });

  route(router, 'post', '/api/v1/inbound-webhooks/{id}/versions/{version}/restore', async ({ claims, params }) => {
    const id = uuidParam('id', params.id);
    const version = Number(params.version);
    if (!/^\d+$/.test(String(params.version)) || !Number.isSafeInteger(version) || version < 1) {
      throw new ApiRequestError('VALIDATION', 'version: must be a whole number from 1', { field: 'version' });
    }
    const row = await withClaims(pool, claims, (client) => restoreVersionAs(client, id, version));
    return { status: 200, body: webhookToApi(row, claims.tenantSlug, options) };
  });

  return router;
}
