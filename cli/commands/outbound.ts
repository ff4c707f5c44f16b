// `intake subscription …` and `intake events …`: outbound webhooks from the shell, as the
// database owner with the tenant named (like `intake webhook create`). Every command that takes
// an id checks it belongs to --tenant (the owner is not held by row-level security). The
// queue-touching ones call the intake_private function the API's security-definer function
// wraps, so the CLI and the API do the same thing. Wired into cli/intake.ts as
// `case 'subscription': case 'events': return outboundCommand(command, args);`.
// JSON on stdout; a signing secret is printed by create and rotate, that once.
import type pg from 'pg';
import type { Database } from '../../core/database.ts';
import { loadEnv } from '../../core/env.ts';
import { UserError } from '../../core/errors.ts';
import { createSubscription, rotateSubscriptionSecret, subscriptionOfTenant, updateSubscription } from '../../core/outbound.ts';
import { DEFAULT_OVERLAP_SECONDS, MAX_OVERLAP_SECONDS, outboundPolicyOf, type SubscriptionConfig } from '../../core/outboundSubscriptions.ts';
import { tenantIdForSlug } from '../../core/tenants.ts';
import { intOption, need, pairsOption, parse, UsageError, UUID, withDatabase } from '../args.ts';

export const OUTBOUND_USAGE = `  subscription create --tenant S --url U --events 'ticket.*,invoice.paid' [--description D]
                      [--header NAME=VALUE]... [--rate-limit PER_MINUTE] [--inactive]   → {"id","secret"} (shown once)
  subscription list --tenant S
  subscription show ID --tenant S                  settings, deliveries by status, when old secrets stop signing
  subscription update ID --tenant S [--url U] [--events E] [--description D] [--header NAME=VALUE]...
                      [--no-headers] [--rate-limit PER_MINUTE|none] [--active | --inactive]
  subscription rotate ID --tenant S [--overlap-hours H]   → {"id","secret",…} (default 24, at most 168)
  subscription delete ID --tenant S                with its deliveries and attempts
  subscription test ID --tenant S [--type EVENT_TYPE]       sends a test event now
  subscription recover ID --tenant S --since TIME [--count] re-sends its failed deliveries since TIME
  subscription recovery RECOVERY_ID --tenant S     a recovery's progress
  events list --tenant S [--type T] [--from TIME] [--to TIME] [--limit N]
  events deliveries --tenant S [--subscription ID] [--type T] [--status pending|succeeded|failed]
                    [--from TIME] [--to TIME] [--limit N]
  events delivery ID --tenant S                    one delivery, its event and every attempt
  events retry ID --tenant S                       re-sends one delivery now (same webhook-id)`;

const STATUSES = ['pending', 'succeeded', 'failed'];

const SUBSCRIPTION_COLUMNS = `subscription_id as id, url, description, event_types, headers, rate_limit_per_minute, is_active,
  disabled_reason, auto_disabled_at, failing_since, created_at, updated_at`;
const DELIVERY_FIELDS = ['event_id', 'subscription_id', 'event_type', 'status', 'attempt_count', 'next_attempt_at',
  'last_attempt_at', 'last_response_status', 'last_error', 'created_at', 'succeeded_at'];
/** a delivery's columns as the CLI prints them, of the table or function aliased `from` */
const deliveryColumns = (from: string) => [`${from}.delivery_id as id`, ...DELIVERY_FIELDS.map((f) => `${from}.${f}`)].join(', ');

function idArgument(rest: string[], what: string, usage: string): string {
  const id = rest[0];
  if (!id || id.startsWith('--')) throw new UsageError(`${usage} takes ${what} id first`);
  if (!UUID.test(id)) throw new UsageError(`${usage}: not ${what} id (a uuid): "${id}"`);
  return id;
}

function timeOption(v: Record<string, unknown>, name: string): string | null {
  const value = v[name];
  if (value === undefined) return null;
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
    throw new UsageError(`--${name} must be an ISO 8601 date-time (2026-12-01 or 2026-12-01T08:00:00Z), got "${String(value)}"`);
  }
  return new Date(value).toISOString();
}

const eventsOption = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

/** SQL's "not found" (P0002) and bad-argument (22023) errors as one-line user errors. */
async function userErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (code === 'P0002') throw new UserError('not_found', String(message));
    if (code === '22023') throw new UserError('validation', String(message));
    throw error;
  }
}

/**
 * Runs in a transaction (committed on success) with the tenant's id, also set as intake.tenant,
 * so the SQL API's functions that read intake.current_tenant() answer for it.
 */
function inTenant<T>(tenantSlug: string, run: (c: pg.Client, tenant: string, db: Database) => Promise<T>): Promise<T> {
  return withDatabase(async (c, db) => {
    const tenant = await tenantIdForSlug(c, tenantSlug);
    await c.query('begin');
    try {
      await c.query(`select set_config('intake.tenant', $1, true)`, [tenant]);
      const result = await userErrors(() => run(c, tenant, db));
      await c.query('commit');
      return result;
    } catch (error) {
      await c.query('rollback').catch(() => {});
      throw error;
    }
  });
}

async function subscriptionCommand(sub: string | undefined, rest: string[]): Promise<unknown> {
  if (sub === 'create') {
    const v = parse(rest, {
      tenant: { type: 'string' }, url: { type: 'string' }, events: { type: 'string' }, description: { type: 'string' },
      header: { type: 'string', multiple: true }, 'rate-limit': { type: 'string' }, inactive: { type: 'boolean' },
    });
    const tenant = need(v, 'tenant');
    const input = {
      url: need(v, 'url'),
      event_types: eventsOption(need(v, 'events')),
      headers: pairsOption(v.header as string[] | undefined, 'header', 'NAME=VALUE'),
      is_active: v.inactive !== true,
      ...(v.description !== undefined ? { description: v.description } : {}),
      ...(v['rate-limit'] !== undefined ? { rate_limit_per_minute: intOption(v, 'rate-limit') } : {}),
    };
    const policy = outboundPolicyOf(loadEnv().outbound);
    return withDatabase((client, db) => createSubscription(client, db.masterKey, policy, tenant, input));
  }
  if (sub === 'list') {
    const v = parse(rest, { tenant: { type: 'string' } });
    return inTenant(need(v, 'tenant'), async (c, tenant) =>
      (await c.query(`select ${SUBSCRIPTION_COLUMNS} from intake.outbound_subscriptions where tenant = $1
                       order by created_at desc, subscription_id`, [tenant])).rows);
  }
  const usage = `subscription ${sub}`;
  if (sub === 'show') {
    const id = idArgument(rest, 'a subscription', usage);
    const v = parse(rest.slice(1), { tenant: { type: 'string' } });
    return inTenant(need(v, 'tenant'), async (c, tenant) => {
      await subscriptionOfTenant(c, tenant, id);
      const { rows } = await c.query(
        `select ${SUBSCRIPTION_COLUMNS},
                intake.outbound_subscriptions_secret_expires_at(s) as previous_secrets_expire_at,
                (select count(*)::int from intake_private.outbound_subscription_secrets x
                  where x.tenant = s.tenant and x.subscription_id = s.subscription_id and (x.expires_at is null or x.expires_at > now())) as live_secrets,
                (select jsonb_build_object(
                          'pending', count(*) filter (where d.status = 'pending'),
                          'succeeded', count(*) filter (where d.status = 'succeeded'),
                          'failed', count(*) filter (where d.status = 'failed'))
                   from intake.outbound_deliveries d where d.tenant = s.tenant and d.subscription_id = s.subscription_id) as deliveries
           from intake.outbound_subscriptions s where s.tenant = $1 and s.subscription_id = $2`,
        [tenant, id],
      );
      return rows[0];
    });
  }
  if (sub === 'update') {
    const id = idArgument(rest, 'a subscription', usage);
    const v = parse(rest.slice(1), {
      tenant: { type: 'string' }, url: { type: 'string' }, events: { type: 'string' }, description: { type: 'string' },
      header: { type: 'string', multiple: true }, 'no-headers': { type: 'boolean' }, 'rate-limit': { type: 'string' },
      active: { type: 'boolean' }, inactive: { type: 'boolean' },
    });
    const tenant = need(v, 'tenant');
    if (v.active && v.inactive) throw new UsageError('use either --active or --inactive, not both');
    if (v.header !== undefined && v['no-headers']) throw new UsageError('use either --header or --no-headers, not both');
    const patch: Partial<SubscriptionConfig> = {};
    if (v.url !== undefined) patch.url = v.url as string;
    if (v.events !== undefined) patch.event_types = eventsOption(v.events as string);
    if (v.description !== undefined) patch.description = (v.description as string) || null;
    if (v.header !== undefined) patch.headers = pairsOption(v.header as string[], 'header', 'NAME=VALUE');
    if (v['no-headers']) patch.headers = {};
    if (v['rate-limit'] === 'none') patch.rate_limit_per_minute = null;
    else if (v['rate-limit'] !== undefined) patch.rate_limit_per_minute = intOption(v, 'rate-limit')!;
    if (v.active) patch.is_active = true;
    if (v.inactive) patch.is_active = false;
    if (Object.keys(patch).length === 0) throw new UsageError(`${usage}: nothing to change; usage:\n${OUTBOUND_USAGE}`);
    const policy = outboundPolicyOf(loadEnv().outbound);
    return inTenant(tenant, async (c, tenantId) => {
      await updateSubscription(c, policy, tenant, id, patch);
      return (await c.query(`select ${SUBSCRIPTION_COLUMNS} from intake.outbound_subscriptions where tenant = $1 and subscription_id = $2`, [tenantId, id])).rows[0];
    });
  }
  if (sub === 'rotate') {
    const id = idArgument(rest, 'a subscription', usage);
    const v = parse(rest.slice(1), { tenant: { type: 'string' }, 'overlap-hours': { type: 'string' } });
    const hours = intOption(v, 'overlap-hours');
    const overlap = hours === undefined ? DEFAULT_OVERLAP_SECONDS : hours * 3600;
    if (overlap > MAX_OVERLAP_SECONDS) throw new UsageError(`--overlap-hours is at most ${MAX_OVERLAP_SECONDS / 3600} (7 days), got ${hours}`);
    const tenantSlug = need(v, 'tenant');
    return inTenant(tenantSlug, (c, _tenant, db) => rotateSubscriptionSecret(c, db.masterKey, tenantSlug, id, overlap));
  }
  if (sub === 'delete') {
    const id = idArgument(rest, 'a subscription', usage);
    const v = parse(rest.slice(1), { tenant: { type: 'string' } });
    return inTenant(need(v, 'tenant'), async (c, tenant) => {
      await subscriptionOfTenant(c, tenant, id);
      const { rows } = await c.query('select subscription_id as id, url from intake.delete_outbound_subscription($1)', [id]);
      return { ...rows[0], deleted: true };
    });
  }
  if (sub === 'test') {
    const id = idArgument(rest, 'a subscription', usage);
    const v = parse(rest.slice(1), { tenant: { type: 'string' }, type: { type: 'string' } });
    return inTenant(need(v, 'tenant'), async (c, tenant) =>
      (await c.query(`select ${deliveryColumns('t')} from intake_private.send_outbound_test_event($1, $2, $3) t`, [tenant, id, v.type ?? null])).rows[0]);
  }
  if (sub === 'recover') {
    const id = idArgument(rest, 'a subscription', usage);
    const v = parse(rest.slice(1), { tenant: { type: 'string' }, since: { type: 'string' }, count: { type: 'boolean' } });
    const tenantSlug = need(v, 'tenant');
    need(v, 'since');
    const since = timeOption(v, 'since');
    return inTenant(tenantSlug, async (c, tenant) => {
      await subscriptionOfTenant(c, tenant, id);
      if (v.count) {
        const { rows } = await c.query<{ count: number }>('select intake.outbound_recovery_count($1, $2) as count', [id, since]);
        return { subscription_id: id, since, count: rows[0]!.count };
      }
      const { rows } = await c.query(
        `select recovery_id as id, subscription_id, since, cutoff_at, total, processed, status, started_at, finished_at
           from intake_private.start_outbound_recovery($1, $2, $3)`,
        [tenant, id, since],
      );
      return rows[0];
    });
  }
  if (sub === 'recovery') {
    const id = idArgument(rest, 'a recovery', usage);
    const v = parse(rest.slice(1), { tenant: { type: 'string' } });
    return inTenant(need(v, 'tenant'), async (c, tenant) => {
      const { rows } = await c.query(
        `select recovery_id as id, subscription_id, since, cutoff_at, total, processed, status, error_message, started_at, finished_at
           from intake.outbound_recoveries where tenant = $1 and recovery_id = $2`,
        [tenant, id],
      );
      if (!rows[0]) throw new UserError('not_found', `no outbound recovery ${id} in this tenant`);
      return rows[0];
    });
  }
  throw new UsageError(`unknown command "${['subscription', sub].filter(Boolean).join(' ')}"; usage:\n${OUTBOUND_USAGE}`);
}

async function eventsCommand(sub: string | undefined, rest: string[]): Promise<unknown> {
  if (sub === 'list') {
    const v = parse(rest, { tenant: { type: 'string' }, type: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, limit: { type: 'string' } });
    const tenantSlug = need(v, 'tenant');
    const [from, to] = [timeOption(v, 'from'), timeOption(v, 'to')];
    const limit = intOption(v, 'limit') ?? 100;
    return inTenant(tenantSlug, async (c, tenant) =>
      (await c.query(
        `select event_id as id, event_type, entity_type, entity_id, entity_version::int, is_test, created_at, delivery_count, payload
           from intake.outbound_events
          where tenant = $1 and ($2::text is null or event_type = $2)
            and ($3::timestamptz is null or created_at >= $3) and ($4::timestamptz is null or created_at < $4)
          order by created_at desc, event_id desc limit $5`,
        [tenant, v.type ?? null, from, to, limit],
      )).rows);
  }
  if (sub === 'deliveries') {
    const v = parse(rest, {
      tenant: { type: 'string' }, subscription: { type: 'string' }, type: { type: 'string' }, status: { type: 'string' },
      from: { type: 'string' }, to: { type: 'string' }, limit: { type: 'string' },
    });
    const tenantSlug = need(v, 'tenant');
    const status = v.status as string | undefined;
    if (status !== undefined && !STATUSES.includes(status)) {
      throw new UsageError(`--status must be pending, succeeded or failed, got "${status}"`);
    }
    const subscription = v.subscription as string | undefined;
    if (subscription !== undefined && !UUID.test(subscription)) throw new UsageError(`--subscription takes a subscription id (uuid), got "${subscription}"`);
    const [from, to] = [timeOption(v, 'from'), timeOption(v, 'to')];
    const limit = intOption(v, 'limit') ?? 100;
    return inTenant(tenantSlug, async (c, tenant) =>
      (await c.query(
        `select ${deliveryColumns('d')} from intake.outbound_deliveries d
          where tenant = $1 and ($2::uuid is null or subscription_id = $2) and ($3::text is null or event_type = $3)
            and ($4::text is null or status = $4)
            and ($5::timestamptz is null or created_at >= $5) and ($6::timestamptz is null or created_at < $6)
          order by created_at desc, delivery_id desc limit $7`,
        [tenant, subscription ?? null, v.type ?? null, status ?? null, from, to, limit],
      )).rows);
  }
  const usage = `events ${sub}`;
  if (sub === 'delivery') {
    const id = idArgument(rest, 'a delivery', usage);
    const v = parse(rest.slice(1), { tenant: { type: 'string' } });
    return inTenant(need(v, 'tenant'), async (c, tenant) => {
      const { rows } = await c.query(
        `select ${deliveryColumns('d')}, e.payload,
                (select coalesce(jsonb_agg(jsonb_build_object(
                          'attempt_number', a.attempt_number, 'trigger', a.trigger, 'started_at', a.started_at,
                          'duration_ms', a.duration_ms, 'request_url', a.request_url, 'request_headers', a.request_headers,
                          'response_status', a.response_status, 'response_headers', a.response_headers,
                          'response_body', a.response_body, 'error_message', a.error_message, 'succeeded', a.succeeded)
                        order by a.attempt_number, a.started_at), '[]')
                   from intake.outbound_attempts a where a.tenant = d.tenant and a.delivery_id = d.delivery_id) as attempts
           from intake.outbound_deliveries d
           join intake.outbound_events e on e.tenant = d.tenant and e.event_id = d.event_id
          where d.tenant = $1 and d.delivery_id = $2`,
        [tenant, id],
      );
      if (!rows[0]) throw new UserError('not_found', `no outbound delivery ${id} in this tenant`);
      return rows[0];
    });
  }
  if (sub === 'retry') {
    const id = idArgument(rest, 'a delivery', usage);
    const v = parse(rest.slice(1), { tenant: { type: 'string' } });
    return inTenant(need(v, 'tenant'), async (c, tenant) =>
      (await c.query(`select ${deliveryColumns('r')} from intake_private.retry_outbound_delivery($1, $2) r`, [tenant, id])).rows[0]);
  }
  throw new UsageError(`unknown command "${['events', sub].filter(Boolean).join(' ')}"; usage:\n${OUTBOUND_USAGE}`);
}

export function outboundCommand(command: string, args: string[]): Promise<unknown> {
  const [sub, ...rest] = args;
  return command === 'subscription' ? subscriptionCommand(sub, rest) : eventsCommand(sub, rest);
}
