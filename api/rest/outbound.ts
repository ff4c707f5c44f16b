// /api/v1/outbound-…: subscriptions (CRUD, rotate, test, recover), the delivery log with
// attempts, retry, events and the event-type catalogue. The same code (api/outbound.ts) and SQL
// functions as the GraphQL API, in one transaction per request as intake_user with the API
// key's tenant and user (api/settings.ts).
import { Router } from 'express';
import { OUTBOUND_EVENT_TYPES } from '../../core/outboundEvents.ts';
import { subscriptionConfigFromRow } from '../../core/outboundSubscriptions.ts';
import { ApiRequestError } from '../errors.ts';
import {
  createSubscriptionAs, readSubscription, requireOutboundPermission, rotateSubscriptionSecretAs, updateSubscriptionAs,
  type OutboundServiceOptions, type SubscriptionRow,
} from '../outbound.ts';
import { withClaims } from '../settings.ts';
import { decodeCursor, encodeCursor, objectBody, onlyKeys, route, timeParam, uuidParam, type Schemas } from './http.ts';
import { iso } from './representation.ts';
import type { RestOptions } from './webhooks.ts';

type Row = Record<string, any>;
const STATUSES = ['pending', 'succeeded', 'failed'] as const;
const DEFAULT_LIMIT = 50;
const CURSOR_AT = `to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at`;

function subscriptionToApi(row: SubscriptionRow & { secret_expires_at?: Date | null }): Schemas['OutboundSubscription'] {
  return {
    id: row.subscription_id,
    ...subscriptionConfigFromRow(row),
    disabled_reason: row.disabled_reason ?? null,
    auto_disabled_at: iso(row.auto_disabled_at),
    failing_since: iso(row.failing_since),
    secret_expires_at: iso(row.secret_expires_at),
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
  };
}

function deliveryToApi(row: Row): Schemas['OutboundDelivery'] {
  return {
    id: row.delivery_id,
    event_id: row.event_id,
    subscription_id: row.subscription_id,
    event_type: row.event_type,
    status: row.status,
    attempt_count: row.attempt_count,
    next_attempt_at: iso(row.next_attempt_at),
    last_attempt_at: iso(row.last_attempt_at),
    last_response_status: row.last_response_status ?? null,
    last_error: row.last_error ?? null,
    created_at: iso(row.created_at)!,
    succeeded_at: iso(row.succeeded_at),
  };
}

function attemptToApi(row: Row): Schemas['OutboundAttempt'] {
  return {
    id: row.attempt_id,
    attempt_number: row.attempt_number,
    trigger: row.trigger,
    started_at: iso(row.started_at)!,
    duration_ms: row.duration_ms ?? null,
    request_url: row.request_url,
    request_headers: row.request_headers,
    response_status: row.response_status ?? null,
    response_headers: row.response_headers ?? null,
    response_body: row.response_body ?? null,
    error_message: row.error_message ?? null,
    succeeded: row.succeeded,
  };
}

function eventToApi(row: Row): Schemas['OutboundEvent'] {
  return {
    id: row.event_id,
    event_type: row.event_type,
    entity_type: row.entity_type ?? null,
    entity_id: row.entity_id ?? null,
    entity_version: row.entity_version === null || row.entity_version === undefined ? null : Number(row.entity_version),
    payload: row.payload,
    is_test: row.is_test,
    created_at: iso(row.created_at)!,
    delivery_count: row.delivery_count ?? null,
  };
}

function recoveryToApi(row: Row): Schemas['OutboundRecovery'] {
  return {
    id: row.recovery_id,
    subscription_id: row.subscription_id,
    since: iso(row.since)!,
    total: row.total,
    processed: row.processed,
    status: row.status,
    error_message: row.error_message ?? null,
    started_at: iso(row.started_at)!,
    finished_at: iso(row.finished_at),
  };
}

/** One page of a newest-first log: the rows past `limit` only say that a next page exists. */
function pageOf<T>(rows: Row[], limit: number, idColumn: string, toApi: (row: Row) => T): { data: T[]; next_cursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { data: page.map(toApi), next_cursor: rows.length > limit && last ? encodeCursor(last.cursor_at, last[idColumn]) : null };
}

function limitParam(value: string | undefined): number {
  const limit = value === undefined ? DEFAULT_LIMIT : Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ApiRequestError('VALIDATION', 'limit: must be a whole number from 1 to 100', { field: 'limit' });
  return limit;
}

/** The REST body's snake_case settings, as the service takes them (only the documented keys). */
function settingsOf(body: Record<string, unknown>): Record<string, unknown> {
  onlyKeys(body, ['url', 'event_types', 'description', 'headers', 'rate_limit_per_minute', 'is_active']);
  return body;
}

const SELECT_SUBSCRIPTION = `select s.*, intake.outbound_subscriptions_secret_expires_at(s) as secret_expires_at from intake.outbound_subscriptions s`;

export function outboundRoutes(options: RestOptions): Router {
  const router = Router();
  const { pool } = options;
  const service: OutboundServiceOptions = { masterKey: options.masterKey, outbound: options.outbound ?? { allowHttp: false, allowCidrs: [] } };

  /** The row with its computed secret_expires_at, under the request's row-level security. */
  const reread = async (client: Parameters<Parameters<typeof withClaims>[2]>[0], id: string) =>
    (await client.query(`${SELECT_SUBSCRIPTION} where s.subscription_id = $1`, [id])).rows[0] as SubscriptionRow;

  route(router, 'get', '/api/v1/outbound-subscriptions', async ({ claims }) => {
    const rows = await withClaims(pool, claims, async (client) => {
      await requireOutboundPermission(client, 'read');
      return (await client.query(`${SELECT_SUBSCRIPTION} order by s.created_at desc, s.subscription_id`)).rows as SubscriptionRow[];
    });
    return { status: 200, body: { data: rows.map(subscriptionToApi) } };
  });

  route(router, 'post', '/api/v1/outbound-subscriptions', async ({ claims, body }) => {
    const input = settingsOf(objectBody(body, true));
    const created = await withClaims(pool, claims, async (client) => {
      const made = await createSubscriptionAs(client, claims.tenant, service, input);
      return { row: await reread(client, made.subscription.subscription_id), secret: made.secret };
    });
    return { status: 201, body: { subscription: subscriptionToApi(created.row), secret: created.secret } };
  });

  route(router, 'get', '/api/v1/outbound-subscriptions/{id}', async ({ claims, params }) => {
    const id = uuidParam('id', params.id);
    const row = await withClaims(pool, claims, async (client) => {
      await requireOutboundPermission(client, 'read');
      await readSubscription(client, id);
      return reread(client, id);
    });
    return { status: 200, body: subscriptionToApi(row) };
  });

  route(router, 'put', '/api/v1/outbound-subscriptions/{id}', async ({ claims, params, body }) => {
    const id = uuidParam('id', params.id);
    const patch = settingsOf(objectBody(body, true));
    const row = await withClaims(pool, claims, async (client) => {
      await updateSubscriptionAs(client, service, id, patch);
      return reread(client, id);
    });
    return { status: 200, body: subscriptionToApi(row) };
  });

  route(router, 'delete', '/api/v1/outbound-subscriptions/{id}', async ({ claims, params }) => {
    const id = uuidParam('id', params.id);
    await withClaims(pool, claims, (client) => client.query('select 1 from intake.delete_outbound_subscription($1)', [id]));
    return { status: 204, body: undefined };
  });

  route(router, 'post', '/api/v1/outbound-subscriptions/{id}/rotate-secret', async ({ claims, params, body }) => {
    const id = uuidParam('id', params.id);
    const input = objectBody(body, false);
    onlyKeys(input, ['overlap_seconds']);
    const overlap = input.overlap_seconds;
    if (overlap !== undefined && (typeof overlap !== 'number' || !Number.isInteger(overlap) || overlap < 0 || overlap > 604_800)) {
      throw new ApiRequestError('VALIDATION', 'overlap_seconds: must be a whole number from 0 to 604800 (7 days)', { field: 'overlap_seconds' });
    }
    const rotated = await withClaims(pool, claims, async (client) => {
      const r = await rotateSubscriptionSecretAs(client, claims.tenant, service, id, overlap as number | undefined);
      return { ...r, row: await reread(client, id) };
    });
    return {
      status: 200,
      body: { subscription: subscriptionToApi(rotated.row), secret: rotated.secret, previous_secrets_expire_at: rotated.previousSecretsExpireAt.toISOString() },
    };
  });

  route(router, 'post', '/api/v1/outbound-subscriptions/{id}/test', async ({ claims, params, body }) => {
    const id = uuidParam('id', params.id);
    const input = objectBody(body, false);
    onlyKeys(input, ['event_type']);
    if (input.event_type !== undefined && typeof input.event_type !== 'string') {
      throw new ApiRequestError('VALIDATION', 'event_type: must be a string', { field: 'event_type' });
    }
    const row = await withClaims(pool, claims, async (client) =>
      (await client.query('select * from intake.send_outbound_test_event($1, $2)', [id, input.event_type ?? null])).rows[0]);
    return { status: 202, body: deliveryToApi(row) };
  });

  route(router, 'get', '/api/v1/outbound-subscriptions/{id}/recover', async ({ claims, params, query }) => {
    const id = uuidParam('id', params.id);
    const since = timeParam('since', query.since);
    if (since === null) throw new ApiRequestError('VALIDATION', 'since: required, an ISO 8601 date-time', { field: 'since' });
    const count = await withClaims(pool, claims, async (client) => {
      await requireOutboundPermission(client, 'read');
      await readSubscription(client, id);
      return (await client.query<{ n: number }>('select intake.outbound_recovery_count($1, $2) as n', [id, since])).rows[0]!.n;
    });
    return { status: 200, body: { count } };
  });

  route(router, 'post', '/api/v1/outbound-subscriptions/{id}/recover', async ({ claims, params, body }) => {
    const id = uuidParam('id', params.id);
    const input = objectBody(body, true);
    onlyKeys(input, ['since']);
    const since = timeParam('since', typeof input.since === 'string' ? input.since : undefined);
    if (since === null) throw new ApiRequestError('VALIDATION', 'since: required, an ISO 8601 date-time', { field: 'since' });
    const row = await withClaims(pool, claims, async (client) =>
      (await client.query('select * from intake.start_outbound_recovery($1, $2)', [id, since])).rows[0]);
    return { status: 202, body: recoveryToApi(row) };
  });

  route(router, 'get', '/api/v1/outbound-recoveries/{recoveryId}', async ({ claims, params }) => {
    const id = uuidParam('recoveryId', params.recoveryId);
    const row = await withClaims(pool, claims, async (client) => {
      await requireOutboundPermission(client, 'read');
      return (await client.query('select * from intake.outbound_recoveries where recovery_id = $1', [id])).rows[0];
    });
    if (!row) throw new ApiRequestError('NOT_FOUND', `outbound recovery ${id} not found`);
    return { status: 200, body: recoveryToApi(row) };
  });

  route(router, 'get', '/api/v1/outbound-deliveries', async ({ claims, query }) => {
    const subscription = query.subscription_id ? uuidParam('subscription_id', query.subscription_id) : null;
    const status = query.status;
    if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
      throw new ApiRequestError('VALIDATION', `status: must be one of ${STATUSES.join(', ')}`, { field: 'status' });
    }
    const from = timeParam('from', query.from);
    const to = timeParam('to', query.to);
    const limit = limitParam(query.limit);
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    const rows = await withClaims(pool, claims, async (client) => {
      await requireOutboundPermission(client, 'read');
      return (await client.query(
        `select d.*, ${CURSOR_AT} from intake.outbound_deliveries d
          where ($1::uuid is null or d.subscription_id = $1) and ($2::text is null or d.event_type = $2)
            and ($3::text is null or d.status = $3) and ($4::timestamptz is null or d.created_at >= $4)
            and ($5::timestamptz is null or d.created_at < $5)
            and ($6::timestamptz is null or (d.created_at, d.delivery_id) < ($6::timestamptz, $7::uuid))
          order by d.created_at desc, d.delivery_id desc limit $8`,
        [subscription, query.event_type || null, status ?? null, from, to, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
      )).rows;
    });
    return { status: 200, body: pageOf(rows, limit, 'delivery_id', deliveryToApi) };
  });

  route(router, 'get', '/api/v1/outbound-deliveries/{deliveryId}', async ({ claims, params }) => {
    const id = uuidParam('deliveryId', params.deliveryId);
    const found = await withClaims(pool, claims, async (client) => {
      await requireOutboundPermission(client, 'read');
      const { rows } = await client.query(
        `select d.*, e.payload from intake.outbound_deliveries d join intake.outbound_events e on e.tenant = d.tenant and e.event_id = d.event_id
          where d.delivery_id = $1`, [id]);
      if (!rows[0]) return null;
      const attempts = (await client.query('select * from intake.outbound_attempts where delivery_id = $1 order by attempt_number, started_at', [id])).rows;
      return { row: rows[0], attempts };
    });
    if (!found) throw new ApiRequestError('NOT_FOUND', `outbound delivery ${id} not found`);
    return { status: 200, body: { ...deliveryToApi(found.row), payload: found.row.payload, attempts: found.attempts.map(attemptToApi) } };
  });

  route(router, 'post', '/api/v1/outbound-deliveries/{deliveryId}/retry', async ({ claims, params }) => {
    const id = uuidParam('deliveryId', params.deliveryId);
    const row = await withClaims(pool, claims, async (client) =>
      (await client.query('select * from intake.retry_outbound_delivery($1)', [id])).rows[0]);
    return { status: 202, body: deliveryToApi(row) };
  });

  route(router, 'get', '/api/v1/outbound-events', async ({ claims, query }) => {
    const from = timeParam('from', query.from);
    const to = timeParam('to', query.to);
    const limit = limitParam(query.limit);
    const after = query.cursor ? decodeCursor(query.cursor) : null;
    const rows = await withClaims(pool, claims, async (client) => {
      await requireOutboundPermission(client, 'read');
      return (await client.query(
        `select e.*, ${CURSOR_AT} from intake.outbound_events e
          where ($1::text is null or e.event_type = $1) and ($2::timestamptz is null or e.created_at >= $2)
            and ($3::timestamptz is null or e.created_at < $3)
            and ($4::timestamptz is null or (e.created_at, e.event_id) < ($4::timestamptz, $5::uuid))
          order by e.created_at desc, e.event_id desc limit $6`,
        [query.event_type || null, from, to, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
      )).rows;
    });
    return { status: 200, body: pageOf(rows, limit, 'event_id', eventToApi) };
  });

  route(router, 'get', '/api/v1/outbound-events/{eventId}', async ({ claims, params }) => {
    const id = uuidParam('eventId', params.eventId);
    const row = await withClaims(pool, claims, async (client) => {
      await requireOutboundPermission(client, 'read');
      return (await client.query('select * from intake.outbound_events where event_id = $1', [id])).rows[0];
    });
    if (!row) throw new ApiRequestError('NOT_FOUND', `outbound event ${id} not found`);
    return { status: 200, body: eventToApi(row) };
  });

  route(router, 'get', '/api/v1/outbound-event-types', async () => ({ status: 200, body: { data: [...OUTBOUND_EVENT_TYPES] } }));

  return router;
}
