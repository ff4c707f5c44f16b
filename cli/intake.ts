#!/usr/bin/env node
// The `intake` command. JSON on stdout; on a bad argument or a refused request, one line on
// stderr and a non-zero exit. Without DATABASE_URL it uses the embedded Postgres under .data/
// (the one `npm start` runs, or it starts it for the length of the command).
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { openDatabase } from '../core/database.ts';
import { loadEnv } from '../core/env.ts';
import { UserError } from '../core/errors.ts';
import { errorMessage, log } from '../core/log.ts';
import { migrateDatabase } from '../core/migrate.ts';
import { intOption, need, pairsOption, parse, UsageError, UUID, withDatabase } from './args.ts';
import { ACCESS_USAGE, accessCommand } from './commands/access.ts';
import { OUTBOUND_USAGE, outboundCommand } from './commands/outbound.ts';
// server/runtime.ts (PostGraphile, Express, the UI) is imported only by the commands that serve:
// loading it took most of every other command's ~2 s start.
import type { RuntimeParts } from '../server/runtime.ts';
import { createSetupToken } from '../core/sessions.ts';
import { createTenant, tenantIdForSlug } from '../core/tenants.ts';
import { createWebhook } from '../core/webhooks.ts';
import { createWorkflow, listWorkflowRuns, listWorkflows, RUN_STATUSES } from '../core/workflows.ts';
import { validateDefinition } from '../worker/workflows/definition.ts';
import { renderActionsDoc } from '../worker/actions/doc.ts';
import { listActionsByEntityType } from '../worker/actions/index.ts';

const USAGE = `usage: intake <command>

  start                                 migrate, then run receiver and worker
  migrate | receiver | worker           one part alone
  tenant create --slug S --name N
  tenant update --slug S --inbound-webhooks on|off|default
  webhook create --tenant S --name N --slug W --auth hmac_sha256|bearer|ip_allowlist|path_token
                 [--signature-header H] [--signature-format hex|base64|github|stripe|slack|standard-webhooks]
                 [--timestamp-header H] [--tolerance SECONDS] [--token-header H] [--ip-cidr C]...
                 [--secret S] [--action A --map field=expr ...] [--workflow ID]
                 [--idempotency-header H | --idempotency-expr E] [--window SECONDS]
                 [--rate-limit PER_MINUTE] [--namespace NS] [--description D] [--inactive]
  webhook list --tenant S
  webhook capture-sample --tenant S --slug W [--minutes M]
  deliveries list --tenant S [--webhook W] [--status pending|dispatched|duplicate|failed] [--limit N]
  deliveries show ID
  deliveries replay ID [--configuration current|dispatched]
  workflow create --tenant S --file DEFINITION.json
  workflow list --tenant S
  workflow runs --tenant S [--workflow ID] [--status pending|running|succeeded|failed] [--limit N]
${ACCESS_USAGE}
${OUTBOUND_USAGE}
  actions list | doc                    the action registry as JSON, or as docs/actions.md`;

function webhookInput(v: Record<string, unknown>): Record<string, unknown> {
  const authType = need(v, 'auth');
  const auth: Record<string, unknown> = { auth_type: authType };
  if (authType === 'hmac_sha256') {
    if (v['signature-format'] !== undefined) auth.signature_format = v['signature-format'];
    if (v['signature-header'] !== undefined) auth.signature_header = v['signature-header'];
    if (v['timestamp-header'] !== undefined) auth.timestamp_header = v['timestamp-header'];
    const tolerance = intOption(v, 'tolerance');
    if (tolerance !== undefined) auth.tolerance_seconds = tolerance;
  } else if (authType === 'bearer') {
    if (v['token-header'] !== undefined) auth.header = v['token-header'];
  } else if (authType === 'ip_allowlist') {
    auth.cidrs = v['ip-cidr'] ?? [];
  }

  let handler: Record<string, unknown>;
  if (v.workflow !== undefined) {
    if (v.action !== undefined) throw new UsageError('use either --action or --workflow, not both');
    handler = { handler_type: 'workflow', workflow_id: v.workflow };
  } else {
    const fieldMapping = pairsOption(v.map as string[] | undefined, 'map', 'field=expression');
    handler = { handler_type: 'direct_action', action: need(v, 'action'), field_mapping: fieldMapping };
  }

  if (v['idempotency-header'] !== undefined && v['idempotency-expr'] !== undefined) {
    throw new UsageError('use either --idempotency-header or --idempotency-expr, not both');
  }
  const idempotency =
    v['idempotency-header'] !== undefined
      ? { type: 'header', value: v['idempotency-header'] }
      : v['idempotency-expr'] !== undefined
        ? { type: 'jsonata', value: v['idempotency-expr'] }
        : null;

  const input: Record<string, unknown> = {
    name: need(v, 'name'),
    slug: need(v, 'slug'),
    auth,
    handler,
    idempotency,
    is_active: v.inactive !== true,
  };
  if (v.description !== undefined) input.description = v.description;
  if (v.secret !== undefined) input.secret = v.secret;
  if (v.namespace !== undefined) input.mapping_namespace = v.namespace;
  const window = intOption(v, 'window');
  if (window !== undefined) input.idempotency_window_seconds = window;
  const rate = intOption(v, 'rate-limit');
  if (rate !== undefined) input.rate_limit_per_minute = rate;
  return input;
}

const DELIVERY_COLUMNS = `d.delivery_id, w.slug as webhook, d.received_at, d.dispatch_status, d.idempotency_key,
  d.handler_outcome, d.error_message, d.retry_count, d.response_status, d.duration_ms, d.dispatched_at,
  d.is_replay, d.replayed_from, d.duplicate_of, d.config_version, d.dispatch_config_version`;

/**
 * On a database with no tenant: a new one-time setup link (earlier ones stop working), on stdout
 * only; the token is never logged. Only `start` offers one, so that scaled-out receivers
 * starting together do not invalidate each other's links.
 */
async function printSetupLink(connectionString: string, base: string, hours: number): Promise<void> {
  const client = new pg.Client({ connectionString });
  client.on('error', () => {});
  await client.connect();
  try {
    const token = await createSetupToken(client, hours);
    if (token) process.stdout.write(`Set up your workspace: ${base}/setup?token=${token}\n`);
  } finally {
    await client.end();
  }
}

async function serve(parts: RuntimeParts, offerSetup = false): Promise<void> {
  const env = loadEnv();
  const { startRuntime } = await import('../server/runtime.ts');
  const { UI_HOME } = await import('../web/serve.ts');
  const runtime = await startRuntime(env, parts);
  const where = runtime.database.embedded ? `embedded Postgres in ${env.dataDir}/pg` : 'DATABASE_URL';
  if (runtime.url) {
    log.info(`Intake listening on ${runtime.url}`, { inbound: `${env.publicUrl}/api/inbound/{tenant}/{webhook}`, database: where, worker: parts.worker });
    process.stdout.write(`Intake listening on ${runtime.url} (database: ${where}${parts.worker ? '; worker running' : ''})\n`);
    if (offerSetup) await printSetupLink(runtime.database.connectionString, env.publicUrlConfigured ? env.publicUrl : runtime.url, env.setupTokenHours);
    // after the setup link, which stays the line right below the listening one
    process.stdout.write(`Settings → Webhooks: ${env.publicUrlConfigured ? env.publicUrl : runtime.url}${UI_HOME}\n`);
  } else {
    process.stdout.write(`Intake worker running (database: ${where})\n`);
  }
  if (runtime.opsUrl) process.stdout.write(`Metrics and health: ${runtime.opsUrl}/metrics, /healthz, /readyz\n`);
  // The graceful stop (server/runtime.ts), bounded: past INTAKE_SHUTDOWN_TIMEOUT_MS, exit 1.
  const shutdown = (signal: string) => {
    log.info('shutting down', { signal });
    const force = setTimeout(() => {
      log.error('shutdown did not finish in time; exiting', { timeout_ms: env.shutdownTimeoutMs });
      process.exit(1);
    }, env.shutdownTimeoutMs);
    force.unref();
    runtime.stop().then(
      () => {
        log.info('shut down');
        process.exit(0);
      },
      (error: unknown) => {
        log.error('shutdown failed', { error: errorMessage(error) });
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

async function main(argv: string[]): Promise<unknown> {
  const [command, sub, ...rest] = argv;
  const args = sub === undefined ? [] : [sub, ...rest];
  switch (command) {
    case 'start':
      await serve({ migrate: true, receiver: true, worker: true }, true);
      return undefined;
    case 'receiver':
      await serve({ migrate: false, receiver: true, worker: false });
      return undefined;
    case 'worker':
      await serve({ migrate: false, receiver: false, worker: true });
      return undefined;
    case 'migrate': {
      const env = loadEnv();
      const db = await openDatabase(env);
      try {
        await migrateDatabase(db.connectionString);
      } finally {
        await db.close();
      }
      return { migrated: true };
    }
    case 'tenant':
      if (sub === 'create') {
        const v = parse(rest, { slug: { type: 'string' }, name: { type: 'string' } });
        const input = { slug: need(v, 'slug'), name: need(v, 'name') };
        return withDatabase((c) => createTenant(c, input));
      }
      if (sub === 'update') {
        const v = parse(rest, { slug: { type: 'string' }, 'inbound-webhooks': { type: 'string' } });
        const slug = need(v, 'slug');
        const flag = need(v, 'inbound-webhooks');
        const enabled = ({ on: true, off: false, default: null } as Record<string, boolean | null>)[flag];
        if (enabled === undefined) throw new UsageError(`--inbound-webhooks must be on, off or default, got "${flag}"`);
        return withDatabase(async (c) => {
          const { rows } = await c.query(
            `update psa.tenants set inbound_webhooks_enabled = $2, updated_at = now() where slug = $1
             returning tenant as tenant_id, slug, inbound_webhooks_enabled`,
            [slug, enabled],
          );
          if (!rows[0]) throw new UserError('not_found', `no tenant with slug "${slug}"`);
          return rows[0];
        });
      }
      break;
    case 'webhook':
      if (sub === 'create') {
        const v = parse(rest, {
          tenant: { type: 'string' }, name: { type: 'string' }, slug: { type: 'string' }, auth: { type: 'string' },
          'signature-header': { type: 'string' }, 'signature-format': { type: 'string' }, 'timestamp-header': { type: 'string' },
          tolerance: { type: 'string' }, 'token-header': { type: 'string' }, 'ip-cidr': { type: 'string', multiple: true },
          secret: { type: 'string' }, action: { type: 'string' }, map: { type: 'string', multiple: true }, workflow: { type: 'string' },
          'idempotency-header': { type: 'string' }, 'idempotency-expr': { type: 'string' }, window: { type: 'string' },
          'rate-limit': { type: 'string' }, namespace: { type: 'string' }, description: { type: 'string' }, inactive: { type: 'boolean' },
        });
        const tenant = need(v, 'tenant');
        const input = webhookInput(v);
        const env = loadEnv();
        return withDatabase((c, db) => createWebhook(c, db.masterKey, env.publicUrl, tenant, input));
      }
      if (sub === 'list') {
        const v = parse(rest, { tenant: { type: 'string' } });
        const tenantSlug = need(v, 'tenant');
        return withDatabase(async (c) => {
          const tenant = await tenantIdForSlug(c, tenantSlug);
          const { rows } = await c.query(
            `select inbound_webhook_id as id, name, slug, auth_type, auth_config, handler_type, handler_config, idempotency_source,
                    idempotency_window_seconds, rate_limit_per_minute, is_active, config_version, sample_capture_until,
                    sample_payload is not null as has_sample, created_at, updated_at
               from intake.inbound_webhooks where tenant = $1 order by name`,
            [tenant],
          );
          return rows;
        });
      }
      if (sub === 'capture-sample') {
        const v = parse(rest, { tenant: { type: 'string' }, slug: { type: 'string' }, minutes: { type: 'string' } });
        const minutes = intOption(v, 'minutes') ?? 5;
        const tenantSlug = need(v, 'tenant');
        const slug = need(v, 'slug');
        return withDatabase(async (c) => {
          const tenant = await tenantIdForSlug(c, tenantSlug);
          const { rows } = await c.query(
            `select intake.capture_sample(inbound_webhook_id, $3) as capture_until
               from intake.inbound_webhooks where tenant = $1 and slug = $2`,
            [tenant, slug, minutes],
          );
          if (!rows[0]) throw new UserError('not_found', `no webhook with slug "${v.slug}" in tenant "${v.tenant}"`);
          return rows[0];
        });
      }
      break;
    case 'deliveries':
      if (sub === 'list') {
        const v = parse(rest, { tenant: { type: 'string' }, webhook: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } });
        const status = v.status as string | undefined;
        if (status !== undefined && !['pending', 'dispatched', 'duplicate', 'failed'].includes(status)) {
          throw new UsageError(`--status must be pending, dispatched, duplicate or failed, got "${status}"`);
        }
        const limit = intOption(v, 'limit') ?? 100;
        const tenantSlug = need(v, 'tenant');
        return withDatabase(async (c) => {
          const tenant = await tenantIdForSlug(c, tenantSlug);
          const { rows } = await c.query(
            `select ${DELIVERY_COLUMNS}
               from intake.inbound_webhook_deliveries d
               join intake.inbound_webhooks w on w.tenant = d.tenant and w.inbound_webhook_id = d.inbound_webhook_id
              where d.tenant = $1 and ($2::text is null or w.slug = $2) and ($3::text is null or d.dispatch_status = $3)
              order by d.received_at desc, d.delivery_id desc
              limit $4`,
            [tenant, v.webhook ?? null, status ?? null, limit],
          );
          return rows;
        });
      }
      if (sub === 'show' || sub === 'replay') {
        const id = rest[0];
        if (!id || !/^[0-9a-f-]{36}$/i.test(id)) throw new UsageError(`deliveries ${sub} takes a delivery id (uuid)`);
        // replay: with the webhook's current configuration, or the one the delivery was dispatched with
        const configuration = sub === 'replay' ? parse(rest.slice(1), { configuration: { type: 'string' } }).configuration ?? 'current' : null;
        if (configuration !== null && configuration !== 'current' && configuration !== 'dispatched') {
          throw new UsageError(`--configuration must be current or dispatched, got "${String(configuration)}"`);
        }
        return withDatabase(async (c) => {
          if (sub === 'replay') {
            try {
              const { rows } = await c.query('select intake.replay_delivery($1, $2) as delivery_id', [id, configuration]);
              return rows[0];
            } catch (error) {
              if ((error as { code?: string }).code === 'P0002') throw new UserError('not_found', `no delivery ${id}`);
              throw error;
            }
          }
          const { rows } = await c.query(
            `select ${DELIVERY_COLUMNS}, d.request_method, d.request_path, b.request_headers, b.request_body,
                    b.request_body_text, d.body_format, d.source_ip::text, d.user_agent, d.response_body,
                    d.body_size, encode(d.body_sha256, 'hex') as body_sha256, b.body_cut_at,
                    (select coalesce(jsonb_agg(r.delivery_id order by r.received_at), '[]') from intake.inbound_webhook_deliveries r
                      where r.tenant = d.tenant and r.replayed_from = d.delivery_id) as replays
               from intake.inbound_webhook_deliveries d
               -- the body and headers wherever kept; once cut, request_body_text says so (with head, size, sha256)
               cross join lateral intake.delivery_with_body(d) b
               join intake.inbound_webhooks w on w.tenant = d.tenant and w.inbound_webhook_id = d.inbound_webhook_id
              where d.delivery_id = $1`,
            [id],
          );
          if (!rows[0]) throw new UserError('not_found', `no delivery ${id}`);
          return rows[0];
        });
      }
      break;
    case 'workflow':
      if (sub === 'create') {
        const v = parse(rest, { tenant: { type: 'string' }, file: { type: 'string' } });
        const tenantSlug = need(v, 'tenant');
        const file = need(v, 'file');
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (error) {
          throw new UsageError(`--file: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`);
        }
        let raw: unknown;
        try {
          raw = JSON.parse(text);
        } catch (error) {
          throw new UserError('validation', `${file}: not JSON: ${errorMessage(error)}`);
        }
        // Checked before the database is opened; createWorkflow checks again.
        const checked = validateDefinition(raw);
        if (!checked.ok) throw new UserError('validation', `${file}: ${checked.errors.join('; ')}`);
        return withDatabase((c) => createWorkflow(c, tenantSlug, raw));
      }
      if (sub === 'list') {
        const v = parse(rest, { tenant: { type: 'string' } });
        const tenantSlug = need(v, 'tenant');
        return withDatabase((c) => listWorkflows(c, tenantSlug));
      }
      if (sub === 'runs') {
        const v = parse(rest, { tenant: { type: 'string' }, workflow: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } });
        const tenantSlug = need(v, 'tenant');
        const status = v.status as string | undefined;
        if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) {
          throw new UsageError(`--status must be pending, running, succeeded or failed, got "${status}"`);
        }
        const workflowId = v.workflow as string | undefined;
        if (workflowId !== undefined && !UUID.test(workflowId)) {
          throw new UsageError(`--workflow takes a workflow id (uuid), got "${workflowId}"`);
        }
        const limit = intOption(v, 'limit') ?? 100;
        return withDatabase((c) =>
          listWorkflowRuns(c, tenantSlug, {
            limit,
            ...(workflowId !== undefined ? { workflowId } : {}),
            ...(status !== undefined ? { status: status as (typeof RUN_STATUSES)[number] } : {}),
          }),
        );
      }
      break;
    case 'user':
    case 'api-key':
      return accessCommand(command, args);
    case 'subscription':
    case 'events':
      return outboundCommand(command, args);
    case 'actions':
      if (sub === 'list') return listActionsByEntityType();
      if (sub === 'doc') {
        process.stdout.write(renderActionsDoc());
        return undefined;
      }
      break;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      return undefined;
  }
  throw new UsageError(`unknown command "${[command, sub].filter(Boolean).join(' ')}"\n${USAGE}`);
}

main(process.argv.slice(2)).then(
  (result) => {
    if (result !== undefined) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  },
  (error) => {
    if (error instanceof UsageError || error instanceof UserError) {
      process.stderr.write(`intake: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`intake: ${errorMessage(error)}\n`);
      process.exitCode = 1;
    }
  },
);
