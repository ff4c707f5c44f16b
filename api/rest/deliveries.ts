// /api/v1/inbound-webhooks/{id}/deliveries[/{deliveryId}[/replay]]: the delivery log, newest
// first with keyset (cursor) pagination, replays through intake.replay_inbound_webhook_delivery, and
// "use as sample" through intake.use_delivery_as_sample.
import { Router } from 'express';
import { ApiRequestError } from '../errors.ts';
import { withClaims } from '../settings.ts';
import { readWebhook, requirePermission, type WebhookRow } from '../webhooks.ts';
import { decodeCursor, encodeCursor, objectBody, onlyKeys, route, timeParam, uuidParam } from './http.ts';
import { deliveryToApi, webhookToApi, type DeliveryRow } from './representation.ts';
import type { RestOptions } from './webhooks.ts';

const STATUSES = ['pending', 'dispatched', 'duplicate', 'failed'] as const;
const DEFAULT_LIMIT = 50;

export function deliveryRoutes(options: RestOptions): Router {
  const router = Router();
  const { pool } = options;

  route(router, 'get', '/api/v1/inbound-webhooks/{id}/deliveries', async ({ claims, params, query }) => {
    const id = uuidParam('id', params.id);
    const status = query.status;
    if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
      throw new ApiRequestError('VALIDATION', `status: must be one of ${STATUSES.join(', ')}`, { field: 'status' });
    }
    const from = timeParam('from', query.from);
    const to = timeParam('to', query.to);
    const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw new ApiRequestError('VALIDATION', 'limit: must be a whole number from 1 to 100', { field: 'limit' });
    }
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    const rows = await withClaims(pool, claims, async (client) => {
      await requirePermission(client, 'read');
      await readWebhook(client, id); // 404 for an id this tenant does not have
      const { rows } = await client.query<DeliveryRow>(
        `select b.*, to_char(d.received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at
           from intake.inbound_webhook_deliveries d
           -- the body and headers wherever kept, or what retention left of them
           cross join lateral intake.delivery_with_body(d) b
          where d.inbound_webhook_id = $1
            and ($2::text is null or d.dispatch_status = $2)
            and ($3::timestamptz is null or d.received_at >= $3)
            and ($4::timestamptz is null or d.received_at < $4)
            and ($5::timestamptz is null or (d.received_at, d.delivery_id) < ($5::timestamptz, $6::uuid))
          order by d.received_at desc, d.delivery_id desc
          limit $7`,
        [id, status ?? null, from, to, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
      );
      return rows;
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      status: 200,
      body: {
        data: page.map(deliveryToApi),
        next_cursor: rows.length > limit && last ? encodeCursor(last.cursor_at, last.delivery_id) : null,
      },
    };
  });

  async function deliveryOf(client: Parameters<Parameters<typeof withClaims>[2]>[0], webhookId: string, deliveryId: string): Promise<DeliveryRow> {
    const { rows } = await client.query<DeliveryRow>(
      `select b.* from intake.inbound_webhook_deliveries d cross join lateral intake.delivery_with_body(d) b
        where d.inbound_webhook_id = $1 and d.delivery_id = $2`,
      [webhookId, deliveryId],
    );
    if (!rows[0]) throw new ApiRequestError('NOT_FOUND', `delivery ${deliveryId} of inbound webhook ${webhookId} not found`);
    return rows[0];
  }

  route(router, 'get', '/api/v1/inbound-webhooks/{id}/deliveries/{deliveryId}', async ({ claims, params }) => {
    const id = uuidParam('id', params.id);
    const deliveryId = uuidParam('deliveryId', params.deliveryId);
    const row = await withClaims(pool, claims, async (client) => {
      await requirePermission(client, 'read');
      return deliveryOf(client, id, deliveryId);
    });
    return { status: 200, body: deliveryToApi(row) };
  });

  route(router, 'post', '/api/v1/inbound-webhooks/{id}/deliveries/{deliveryId}/replay', async ({ claims, params, body }) => {
    const id = uuidParam('id', params.id);
    const deliveryId = uuidParam('deliveryId', params.deliveryId);
    const input = objectBody(body, false);
    onlyKeys(input, ['configuration']);
    const configuration = input.configuration ?? 'current';
    if (configuration !== 'current' && configuration !== 'dispatched') {
      throw new ApiRequestError('VALIDATION', 'configuration: must be current or dispatched', { field: 'configuration' });
    }
    const row = await withClaims(pool, claims, async (client) => {
      await requirePermission(client, 'replay');
      await deliveryOf(client, id, deliveryId);
      return (await client.query<DeliveryRow>('select * from intake.replay_inbound_webhook_delivery($1, $2)', [deliveryId, configuration])).rows[0]!;
    });
    return { status: 202, body: deliveryToApi(row) };
  });

  route(router, 'post', '/api/v1/inbound-webhooks/{id}/deliveries/{deliveryId}/use-as-sample', async ({ claims, params }) => {
    const id = uuidParam('id', params.id);
    const deliveryId = uuidParam('deliveryId', params.deliveryId);
    const row = await withClaims(pool, claims, async (client) => {
      await requirePermission(client, 'update');
      await deliveryOf(client, id, deliveryId);
      return (await client.query<WebhookRow>('select * from intake.use_delivery_as_sample($1)', [deliveryId])).rows[0]!;
    });
    return { status: 200, body: webhookToApi(row, claims.tenantSlug, options) };
  });

  return router;
}
