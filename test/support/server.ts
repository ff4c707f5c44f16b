// A real Intake (receiver and, optionally, worker) on an ephemeral port against a test database,
// plus helpers to create tenants and webhooks the way the CLI does.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { inject } from 'vitest';
import { loadEnv, type Env } from '../../core/env.ts';
import { startRuntime, type Runtime } from '../../server/runtime.ts';
import { createTenant } from '../../core/tenants.ts';
import { createWebhook, type CreatedWebhook } from '../../core/webhooks.ts';
import type { WebhookCreateInput } from '../../core/webhookConfig.ts';

export interface TestServer {
  url: string;
  env: Env;
  runtime: Runtime;
  stop(): Promise<void>;
}

export const testMasterKey = randomBytes(32).toString('base64');

/** The Redis key prefix of this test run (its databases' prefix), for every process it starts. */
export function testRedisKeyPrefix(): string {
  return `intake-test:${inject('databasePrefix')}:`;
}

export async function startTestServer(
  databaseUrl: string,
  options: { worker?: boolean; receiver?: boolean; env?: Record<string, string> } = {},
): Promise<TestServer> {
  const saved = { ...process.env };
  Object.assign(process.env, {
    DATABASE_URL: databaseUrl,
    REDIS_URL: inject('redisUrl'),
    // this run's own Redis keys: a run beside another, or again within a minute, counts apart
    INTAKE_REDIS_KEY_PREFIX: testRedisKeyPrefix(),
    INTAKE_MASTER_KEY: testMasterKey,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    // Every test file's servers share one Redis and one source address (127.0.0.1): the
    // per-address limit is off unless a test sets it (and then uses addresses of its own).
    INTAKE_SOURCE_RATE_LIMIT_PER_MINUTE: '0',
    ...options.env,
  });
  let env: Env;
  try {
    env = loadEnv();
  } finally {
    process.env = saved;
  }
  const runtime = await startRuntime(env, { migrate: false, receiver: options.receiver ?? true, worker: options.worker ?? true });
  return { url: runtime.url ?? '', env, runtime, stop: () => runtime.stop() };
}

export async function makeTenant(pool: pg.Pool, slug: string): Promise<string> {
  return (await createTenant(pool, { slug, name: `Tenant ${slug}` })).tenant_id;
}

export async function makeWebhook(pool: pg.Pool, tenantSlug: string, input: WebhookCreateInput, publicUrl = 'http://localhost'): Promise<CreatedWebhook> {
  const client = await pool.connect();
  try {
    return await createWebhook(client, Buffer.from(testMasterKey, 'base64'), publicUrl, tenantSlug, input);
  } finally {
    client.release();
  }
}

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Waits until the delivery has left `pending`, and returns its row. */
export async function settledDelivery(pool: pg.Pool, deliveryId: string, timeoutMs = 10_000) {
  return waitFor(async () => {
    const { rows } = await pool.query(`select b.* from intake.inbound_webhook_deliveries d cross join lateral intake.delivery_with_body(d) b where d.delivery_id = $1`, [deliveryId]);
    return rows[0] && rows[0].dispatch_status !== 'pending' ? rows[0] : undefined;
  }, timeoutMs, `delivery ${deliveryId} to settle`);
}

/**
 * Waits until the webhook has at least `count` rejections recorded (counting repeats): the
 * receiver answers a refusal first and writes the rejection log behind the answer.
 */
export async function rejectionsRecorded(pool: pg.Pool, inboundWebhookId: string, count = 1, timeoutMs = 5000): Promise<void> {
  await waitFor(async () => {
    const { rows } = await pool.query(
      `select coalesce(sum(repeat_count), 0)::int as n from intake.inbound_webhook_auth_rejections where inbound_webhook_id = $1`,
      [inboundWebhookId],
    );
    return rows[0].n >= count ? true : undefined;
  }, timeoutMs, `${count} rejection(s) of webhook ${inboundWebhookId} to be recorded`);
}
