// `intake subscription create|list` and `intake events list`: outbound webhooks from the shell,
// as the database owner with the tenant named (like `intake webhook create`). Wired into
// cli/intake.ts as `case 'subscription': case 'events': return outboundCommand(command, args);`.
// JSON on stdout; the signing secret is printed by create, this once.
import { loadEnv } from '../../core/env.ts';
import { createSubscription } from '../../core/outbound.ts';
import { parseAllowCidrs } from '../../core/outboundAddress.ts';
import { tenantIdForSlug } from '../../core/tenants.ts';
import { intOption, need, parse, UsageError, withDatabase } from '../args.ts';

export const OUTBOUND_USAGE = `  subscription create --tenant S --url U --events 'ticket.*,invoice.paid' [--description D]
                      [--header NAME=VALUE]... [--rate-limit PER_MINUTE] [--inactive]   → {"id","secret"} (shown once)
  subscription list --tenant S
  events list --tenant S [--type T] [--limit N]
  events deliveries --tenant S [--subscription ID] [--status pending|succeeded|failed] [--limit N]`;

export async function outboundCommand(command: string, args: string[]): Promise<unknown> {
  const [sub, ...rest] = args;
  if (command === 'subscription' && sub === 'create') {
    const v = parse(rest, {
      tenant: { type: 'string' }, url: { type: 'string' }, events: { type: 'string' }, description: { type: 'string' },
      header: { type: 'string', multiple: true }, 'rate-limit': { type: 'string' }, inactive: { type: 'boolean' },
    });
    const tenant = need(v, 'tenant');
    const headers: Record<string, string> = {};
    for (const entry of (v.header as string[] | undefined) ?? []) {
      const at = entry.indexOf('=');
      if (at < 1) throw new UsageError(`--header takes NAME=VALUE, got "${entry}"`);
      headers[entry.slice(0, at).trim()] = entry.slice(at + 1);
    }
    const input = {
      url: need(v, 'url'),
      event_types: need(v, 'events').split(',').map((s) => s.trim()).filter(Boolean),
      headers,
      is_active: v.inactive !== true,
      ...(v.description !== undefined ? { description: v.description } : {}),
      ...(v['rate-limit'] !== undefined ? { rate_limit_per_minute: intOption(v, 'rate-limit') } : {}),
    };
    const env = loadEnv();
    const policy = { allowHttp: env.outbound.allowHttp, allowCidrs: parseAllowCidrs(env.outbound.allowCidrs) };
    return withDatabase((client, db) => createSubscription(client, db.masterKey, policy, tenant, input));
  }
  if (command === 'subscription' && sub === 'list') {
    const v = parse(rest, { tenant: { type: 'string' } });
    const tenantSlug = need(v, 'tenant');
    return withDatabase(async (c) => {
      const tenant = await tenantIdForSlug(c, tenantSlug);
      const { rows } = await c.query(
        `select subscription_id as id, url, description, event_types, headers, rate_limit_per_minute, is_active,
                disabled_reason, auto_disabled_at, failing_since, created_at
           from intake.outbound_subscriptions where tenant = $1 order by created_at desc, subscription_id`,
        [tenant],
      );
      return rows;
    });
  }
  if (command === 'events' && sub === 'list') {
    const v = parse(rest, { tenant: { type: 'string' }, type: { type: 'string' }, limit: { type: 'string' } });
    const tenantSlug = need(v, 'tenant');
    const limit = intOption(v, 'limit') ?? 100;
    return withDatabase(async (c) => {
      const tenant = await tenantIdForSlug(c, tenantSlug);
      const { rows } = await c.query(
        `select event_id as id, event_type, entity_type, entity_id, entity_version::int, created_at, delivery_count, payload
           from intake.outbound_events where tenant = $1 and ($2::text is null or event_type = $2)
          order by created_at desc, event_id desc limit $3`,
        [tenant, v.type ?? null, limit],
      );
      return rows;
    });
  }
  if (command === 'events' && sub === 'deliveries') {
    const v = parse(rest, { tenant: { type: 'string' }, subscription: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } });
    const tenantSlug = need(v, 'tenant');
    const status = v.status as string | undefined;
    if (status !== undefined && !['pending', 'succeeded', 'failed'].includes(status)) {
      throw new UsageError(`--status must be pending, succeeded or failed, got "${status}"`);
    }
    const limit = intOption(v, 'limit') ?? 100;
    return withDatabase(async (c) => {
      const tenant = await tenantIdForSlug(c, tenantSlug);
      const { rows } = await c.query(
        `select delivery_id as id, event_id, subscription_id, event_type, status, attempt_count, next_attempt_at,
                last_attempt_at, last_response_status, last_error, created_at, succeeded_at
           from intake.outbound_deliveries
          where tenant = $1 and ($2::uuid is null or subscription_id = $2) and ($3::text is null or status = $3)
          order by created_at desc, delivery_id desc limit $4`,
        [tenant, v.subscription ?? null, status ?? null, limit],
      );
      return rows;
    });
  }
  throw new UsageError(`unknown command "${[command, sub].filter(Boolean).join(' ')}"; usage:\n${OUTBOUND_USAGE}`);
}
