// Routing around authentication: indistinguishable 401s, methods, the inbound_webhooks_enabled
// flag, rate limits (shared through Redis), config-cache invalidation and sample capture.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { WebhookCreateInput } from '../core/webhookConfig.ts';
import type { CreatedWebhook } from '../core/webhooks.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { REFUSAL_WORK } from '../receiver/auth/index.ts';
import { authWork } from '../receiver/auth/work.ts';
import { ConfigCache } from '../receiver/configCache.ts';
import { pruneAuthRejections } from '../worker/tasks/prune_auth_rejections.ts';
import { makeTenant, makeWebhook, startTestServer, testMasterKey, testRedisKeyPrefix, waitFor, type TestServer } from './support/server.ts';

const sample = (name: string): string =>
  JSON.stringify(JSON.parse(readFileSync(new URL(`./fixtures/samples/${name}`, import.meta.url), 'utf8')));
const handler = { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: '"x"' } } as const;

let db: TestDatabase;
let server: TestServer;
let second: TestServer;
let envOff: TestServer;
let perAddress: TestServer;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { worker: false });
  second = await startTestServer(db.url, { worker: false });
  envOff = await startTestServer(db.url, { worker: false, env: { INTAKE_INBOUND_WEBHOOKS_ENABLED: 'false' } });
  // Behind a "proxy" (the test itself), so each test can send from addresses of its own.
  perAddress = await startTestServer(db.url, {
    worker: false,
    env: { INTAKE_SOURCE_RATE_LIMIT_PER_MINUTE: '3', INTAKE_TRUSTED_PROXIES: '127.0.0.1/32' },
  });
  await makeTenant(db.pool, 'acme');
});
afterAll(async () => {
  await perAddress?.stop();
  await envOff?.stop();
  await second?.stop();
  await server?.stop();
  await db?.drop();
});

function hook(slug: string, extra: Partial<WebhookCreateInput> = {}, tenant = 'acme'): Promise<CreatedWebhook> {
  return makeWebhook(db.pool, tenant, { name: slug, slug, auth: { auth_type: 'hmac_sha256' }, handler, ...extra });
}

/** A request signed with `secret` (hex HMAC in x-signature, the default format). */
function send(url: string, body: string, secret: string, method = 'POST', headers: Record<string, string> = {}) {
  return fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Alertmanager/0.28.1',
      'x-signature': createHmac('sha256', secret).update(body).digest('hex'),
      ...headers,
    },
    body,
  });
}

/** A fresh documentation address (203.0.113.0/24, 2001:db8::/32) for the per-address limit. */
let addressCount = 0;
const freshV4 = () => `203.0.113.${++addressCount}`;
const freshV6 = (host = 1) => `2001:db8:${(++addressCount).toString(16)}::${host}`;

/** Status, body bytes and headers but the date: what must not differ between refusals. */
async function seenOf(res: Response) {
  return {
    status: res.status,
    body: Buffer.from(await res.arrayBuffer()).toString('hex'),
    // date and x-request-id differ per request whatever the answer
    headers: [...res.headers].filter(([name]) => name !== 'date' && name !== 'x-request-id'),
  };
}
const at = (base: string, tenant: string, slug: string) => `${base}/api/inbound/${tenant}/${slug}`;

async function deliveryCount(webhookId: string): Promise<number> {
  const { rows } = await db.pool.query('select count(*)::int as n from intake.inbound_webhook_deliveries where inbound_webhook_id = $1', [webhookId]);
  return rows[0].n;
}

describe('indistinguishable 401s', () => {
  it('answers unknown tenant, tenant switched off, unknown webhook, inactive webhook and bad signature with the same bytes and headers', async () => {
    const body = sample('alertmanager-alert.firing.json');
    const active = await hook('alerts');
    const retired = await hook('retired', { is_active: false });
    await makeTenant(db.pool, 'dark');
    const dark = await hook('alerts', {}, 'dark');
    await db.pool.query(`update psa.tenants set inbound_webhooks_enabled = false where slug = 'dark'`);
    const responses = await Promise.all([
      send(at(server.url, 'nobody', 'alerts'), body, active.secret!),
      send(at(server.url, 'dark', 'alerts'), body, dark.secret!), // correctly signed, but the tenant is off
      send(at(server.url, 'acme', 'no-such-hook'), body, active.secret!),
      send(at(server.url, 'acme', 'retired'), body, retired.secret!), // correctly signed, but inactive
      send(at(server.url, 'acme', 'alerts'), body, retired.secret!),
      send(at(server.url, 'acme%00', 'alerts'), body, active.secret!), // NUL: no such slug, not a 503
      send(at(server.url, 'ACME', 'alerts'), body, active.secret!),
    ]);
    const seen = await Promise.all(responses.map(seenOf));
    expect(seen[0]!.status).toBe(401);
    expect(Buffer.from(seen[0]!.body, 'hex').toString()).toBe('{"error":"unauthorized"}');
    for (const other of seen.slice(1)) expect(other).toEqual(seen[0]);
    expect(await deliveryCount(dark.id)).toBe(0);

    const rows = await waitFor(async () => {
      const { rows } = await db.pool.query(
        `select webhook_slug, auth_status, inbound_webhook_id from intake.inbound_webhook_auth_rejections
          where webhook_slug in ('no-such-hook', 'retired', 'alerts') order by webhook_slug`);
      return rows.length >= 3 ? rows : undefined;
    }, 3000, 'the rejections to be recorded');
    expect(rows).toEqual([
      { webhook_slug: 'alerts', auth_status: 'rejected_signature', inbound_webhook_id: active.id },
      { webhook_slug: 'no-such-hook', auth_status: 'unknown_webhook', inbound_webhook_id: null },
      { webhook_slug: 'retired', auth_status: 'inactive_webhook', inbound_webhook_id: retired.id },
    ]);
    expect(await deliveryCount(retired.id)).toBe(0);
  });

  /** Refusal cases across schemes and reasons: name, url and headers of each (the webhooks made once). */
  let made: ReturnType<typeof makeRefusals> | undefined;
  const refusals = () => (made ??= makeRefusals());
  async function makeRefusals() {
    await hook('work-hex');
    await hook('work-stripe', { auth: { auth_type: 'hmac_sha256', signature_format: 'stripe' } });
    await hook('work-std', { auth: { auth_type: 'hmac_sha256', signature_format: 'standard-webhooks' } });
    await hook('work-github', { auth: { auth_type: 'hmac_sha256', signature_format: 'github' } });
    await hook('work-slack', { auth: { auth_type: 'hmac_sha256', signature_format: 'slack' } });
    await hook('work-bearer', { auth: { auth_type: 'bearer' } });
    await hook('work-path', { auth: { auth_type: 'path_token' } });
    await hook('work-ip', { auth: { auth_type: 'ip_allowlist', cidrs: ['10.0.0.0/8'] } });
    await hook('work-retired', { is_active: false });
    await makeTenant(db.pool, 'work-dark');
    await hook('alerts', {}, 'work-dark');
    await db.pool.query(`update psa.tenants set inbound_webhooks_enabled = false where slug = 'work-dark'`);
    const t = Math.floor(Date.now() / 1000);
    const bad = '00'.repeat(32);
    const cases: [string, string, Record<string, string>][] = [
      ['unknown tenant, hex signature', at(server.url, 'nobody', 'alerts'), { 'x-signature': bad }],
      ['unknown tenant, no credentials', at(server.url, 'nobody', 'alerts'), {}],
      ['unknown tenant, a Stripe signature', at(server.url, 'nobody', 'alerts'), { 'stripe-signature': `t=${t},v1=${bad}` }],
      ['unknown tenant, a bearer token', at(server.url, 'nobody', 'alerts'), { authorization: 'Bearer x' }],
      ['tenant switched off', at(server.url, 'work-dark', 'alerts'), { 'x-signature': bad }],
      ['unknown webhook', at(server.url, 'acme', 'work-none'), { 'x-signature': bad }],
      ['inactive webhook', at(server.url, 'acme', 'work-retired'), { 'x-signature': bad }],
      ['hex: wrong signature', at(server.url, 'acme', 'work-hex'), { 'x-signature': bad }],
      ['hex: no signature header', at(server.url, 'acme', 'work-hex'), {}],
      ['stripe: no Stripe-Signature', at(server.url, 'acme', 'work-stripe'), { 'x-signature': bad }],
      ['stripe: stale timestamp', at(server.url, 'acme', 'work-stripe'), { 'stripe-signature': `t=${t - 3600},v1=${bad}` }],
      ['stripe: wrong signature', at(server.url, 'acme', 'work-stripe'), { 'stripe-signature': `t=${t},v1=${bad}` }],
      ['standard webhooks: no id', at(server.url, 'acme', 'work-std'), { 'webhook-signature': 'v1,AAAA', 'webhook-timestamp': String(t) }],
      ['standard webhooks: wrong signature', at(server.url, 'acme', 'work-std'), { 'webhook-signature': 'v1,AAAA', 'webhook-id': 'msg_1', 'webhook-timestamp': String(t) }],
      ['github: no sha256= prefix', at(server.url, 'acme', 'work-github'), { 'x-hub-signature-256': bad }],
      ['slack: stale timestamp', at(server.url, 'acme', 'work-slack'), { 'x-slack-signature': `v0=${bad}`, 'x-slack-request-timestamp': String(t - 3600) }],
      ['bearer: wrong token', at(server.url, 'acme', 'work-bearer'), { authorization: 'Bearer nope' }],
      ['bearer: no header', at(server.url, 'acme', 'work-bearer'), {}],
      ['path token: none', at(server.url, 'acme', 'work-path'), {}],
      ['path token: wrong', `${at(server.url, 'acme', 'work-path')}?token=nope`, {}],
      ['ip allowlist: not allowed', at(server.url, 'acme', 'work-ip'), {}],
    ];
    return cases;
  }
  const refuse = (url: string, body: string, headers: Record<string, string>) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'probe', ...headers }, body });

  it('every refusal does the same work, whatever the scheme, the webhook, or where its check stopped', async () => {
    const body = sample('alertmanager-alert.firing.json');
    const seen: unknown[] = [];
    const work: Record<string, { bodyMacs: number; tokenHashes: number }> = {};
    for (const [name, url, headers] of await refusals()) {
      const before = { ...authWork };
      const res = await refuse(url, body, headers);
      work[name] = { bodyMacs: authWork.bodyMacs - before.bodyMacs, tokenHashes: authWork.tokenHashes - before.tokenHashes };
      seen.push(await seenOf(res));
    }
    // Before, a missing header, a stale timestamp, a bearer or IP webhook and the decoy (hex,
    // one pass, only with an X-Signature header) each did different work.
    expect(work).toEqual(Object.fromEntries(Object.keys(work).map((name) => [name, REFUSAL_WORK])));
    for (const other of seen) expect(other).toEqual(seen[0]);
    expect((seen[0] as { status: number }).status).toBe(401);
  });

  it('records a flood of identical rejections as few rows with repeat_count, and the cron task prunes rows past the retention, oldest first, in bounded batches', async () => {
    const body = sample('alertmanager-alert.firing.json');
    const h = await hook('flooded');
    const url = at(server.url, 'acme', 'flooded');
    const began = performance.now();
    const answers = await Promise.all(Array.from({ length: 40 }, () => send(url, body, 'not-the-secret')));
    const floodMs = performance.now() - began;
    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(401));
    const rows = await waitFor(async () => {
      const { rows } = await db.pool.query(
        `select repeat_count, received_at, last_received_at from intake.inbound_webhook_auth_rejections where inbound_webhook_id = $1`, [h.id]);
      return rows.reduce((n, r) => n + r.repeat_count, 0) === 40 ? rows : undefined;
    }, 3000, 'the 40 rejections to be recorded');
    // One row per distinct rejection per flush (250 ms, server/runtime.ts): a flood that took
    // longer on a busy machine spans more flushes, never more rows than that.
    expect(rows.length).toBeLessThanOrEqual(Math.min(20, Math.ceil(floodMs / 250) + 1));
    for (const r of rows) expect(r.last_received_at.getTime()).toBeGreaterThanOrEqual(r.received_at.getTime());

    const { rows: [t] } = await db.pool.query(`select tenant from psa.tenants where slug = 'acme'`);
    await db.pool.query(
      `insert into intake.inbound_webhook_auth_rejections (tenant, webhook_slug, auth_status, reason, request_method, received_at, last_received_at)
       values ($1, 'old-8d', 'unknown_webhook', 'x', 'POST', now() - interval '9 days', now() - interval '8 days'),
              ($1, 'old-9d', 'unknown_webhook', 'x', 'POST', now() - interval '9 days', now() - interval '9 days'),
              ($1, 'old-10d', 'unknown_webhook', 'x', 'POST', now() - interval '10 days', now() - interval '10 days'),
              ($1, 'old-6d', 'unknown_webhook', 'x', 'POST', now() - interval '9 days', now() - interval '6 days')`, [t.tenant]);
    // the worker's cron task, in batches of 2 and at most one batch a run: the oldest go first
    expect(await pruneAuthRejections(db.pool, 7, 2, 1)).toMatchObject({ deleted: 2, batches: 1, more: true });
    const { rows: afterFirst } = await db.pool.query(`select webhook_slug from intake.inbound_webhook_auth_rejections where webhook_slug like 'old-%' order by webhook_slug`);
    expect(afterFirst).toEqual([{ webhook_slug: 'old-6d' }, { webhook_slug: 'old-8d' }]);
    expect(await pruneAuthRejections(db.pool, 7, 2, 1)).toMatchObject({ deleted: 1, batches: 1, more: false });
    const { rows: left } = await db.pool.query(`select webhook_slug from intake.inbound_webhook_auth_rejections where webhook_slug like 'old-%'`);
    expect(left).toEqual([{ webhook_slug: 'old-6d' }]);
  });

  it('answers every refusal without waiting for its rejection to be recorded', async () => {
    const body = sample('alertmanager-alert.firing.json');
    const active = await hook('unblocked');
    const retired = await hook('unblocked-retired', { is_active: false });
    // Block every insert into the rejection log until the refusals have been answered.
    const blocker = await db.pool.connect();
    try {
      await blocker.query('begin');
      await blocker.query('lock table intake.inbound_webhook_auth_rejections in exclusive mode');
      const started = Date.now();
      const statuses = await Promise.all([
        send(at(server.url, 'acme', 'no-such-hook-2'), body, active.secret!),
        send(at(server.url, 'acme', 'unblocked-retired'), body, retired.secret!),
        send(at(server.url, 'acme', 'unblocked'), body, 'not-the-secret'),
        send(at(server.url, 'nobody', 'unblocked'), body, active.secret!),
      ].map((p) => p.then((res) => res.status)));
      expect(statuses).toEqual([401, 401, 401, 401]);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await blocker.query('rollback');
      blocker.release();
    }
    // and once the table is free, the rejections are there
    await waitFor(async () => {
      const { rows } = await db.pool.query(
        `select count(*)::int as n from intake.inbound_webhook_auth_rejections where webhook_slug in ('no-such-hook-2', 'unblocked-retired', 'unblocked')`);
      return rows[0].n === 3 ? true : undefined;
    }, 3000, 'the rejections to be recorded');
  });
});

describe('methods and health', () => {
  it('answers GET and DELETE on the inbound path with 405 and an Allow header', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(at(server.url, 'acme', 'alerts'), { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST, PUT, PATCH');
      expect((await res.json()).error).toMatch(/method not allowed/);
    }
  });

  it('accepts PUT and PATCH (Grafana can be set to PUT)', async () => {
    const h = await hook('grafana');
    const body = sample('grafana-alerting.firing.json');
    for (const method of ['PUT', 'PATCH']) {
      const res = await send(at(server.url, 'acme', 'grafana'), body, h.secret!, method);
      expect(res.status).toBe(200);
      const { rows } = await db.pool.query('select request_method from intake.inbound_webhook_deliveries where delivery_id = $1', [(await res.json()).delivery_id]);
      expect(rows).toEqual([{ request_method: method }]);
    }
  });

  it('serves /healthz', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});

describe('inbound_webhooks_enabled', () => {
  const body = sample('zabbix-problem.eda-webhook.json');

  it('answers 401 (as to an unknown tenant) once the tenant flag is turned off, even to a valid signature', async () => {
    await makeTenant(db.pool, 'switched');
    const h = await hook('zabbix', {}, 'switched');
    expect((await send(at(server.url, 'switched', 'zabbix'), body, h.secret!)).status).toBe(200);
    await db.pool.query(`update psa.tenants set inbound_webhooks_enabled = false where slug = 'switched'`);
    const res = await waitFor(async () => {
      const r = await send(at(server.url, 'switched', 'zabbix'), body, h.secret!);
      return r.status === 401 ? r : undefined;
    }, 3000, 'the tenant flag to take effect');
    expect(await res.json()).toEqual({ error: 'unauthorized' });
    const before = await deliveryCount(h.id);
    expect((await send(at(server.url, 'switched', 'zabbix'), body, h.secret!)).status).toBe(401);
    expect(await deliveryCount(h.id)).toBe(before);
  });

  it('follows INTAKE_INBOUND_WEBHOOKS_ENABLED=false when the flag is null, and a tenant true overrides it', async () => {
    const followsEnv = await hook('zabbix-env');
    expect((await send(at(envOff.url, 'acme', 'zabbix-env'), body, followsEnv.secret!)).status).toBe(401);
    expect(await deliveryCount(followsEnv.id)).toBe(0);
    expect((await send(at(server.url, 'acme', 'zabbix-env'), body, followsEnv.secret!)).status).toBe(200);

    await makeTenant(db.pool, 'optin');
    await db.pool.query(`update psa.tenants set inbound_webhooks_enabled = true where slug = 'optin'`);
    const optin = await hook('zabbix', {}, 'optin');
    const res = await send(at(envOff.url, 'optin', 'zabbix'), body, optin.secret!);
    expect(res.status).toBe(200);
    expect(Object.keys(await res.json())).toEqual(['delivery_id']);
  });
});

describe('rate limits', () => {
  const body = sample('uptimekuma-monitor.down.json');

  it('answers 429 with a numeric Retry-After past rate_limit_per_minute, counted across receivers', async () => {
    const h = await hook('limited', { rate_limit_per_minute: 2 });
    expect((await send(at(server.url, 'acme', 'limited'), body, h.secret!)).status).toBe(200);
    expect((await send(at(second.url, 'acme', 'limited'), body, h.secret!)).status).toBe(200);
    const res = await send(at(server.url, 'acme', 'limited'), body, h.secret!);
    expect(res.status).toBe(429);
    const retryAfter = res.headers.get('retry-after');
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ error: 'rate limit exceeded', retry_after_seconds: Number(retryAfter) });
    expect(await deliveryCount(h.id)).toBe(2);

    // The count is kept under this installation's INTAKE_REDIS_KEY_PREFIX, nowhere else.
    const redis = new Redis(inject('redisUrl'));
    try {
      expect(await redis.get(`${testRedisKeyPrefix()}rl:${h.id}`)).toBe('3');
      expect(await redis.exists(`intake:rl:${h.id}`)).toBe(0);
    } finally {
      redis.disconnect();
    }
  });

  it("counts verified requests only: a stranger's unsigned flood does not use up the sender's allowance", async () => {
    const h = await hook('not-silenced', { rate_limit_per_minute: 2 });
    const url = at(server.url, 'acme', 'not-silenced');
    const strangers = await Promise.all(Array.from({ length: 10 }, () => send(url, body, 'a-stranger-guessing')));
    expect(strangers.map((r) => r.status)).toEqual(Array(10).fill(401));
    expect((await send(url, body, h.secret!)).status).toBe(200);
    expect((await send(url, body, h.secret!)).status).toBe(200);
    expect((await send(url, body, h.secret!)).status).toBe(429); // the sender's own third request
    expect(await deliveryCount(h.id)).toBe(2);
  });

  it('limits each source address before authentication, known and unknown URLs alike (an IPv6 /64 is one address)', async () => {
    const h = await hook('per-address');
    const url = at(perAddress.url, 'acme', 'per-address');
    const from = (address: string) => ({ 'x-forwarded-for': address });
    const stranger = freshV4();
    // three requests of any kind from one address: unknown tenant, unknown webhook, bad signature
    expect((await send(at(perAddress.url, 'nobody', 'x'), body, 'guess', 'POST', from(stranger))).status).toBe(401);
    expect((await send(at(perAddress.url, 'acme', 'no-such'), body, 'guess', 'POST', from(stranger))).status).toBe(401);
    expect((await send(url, body, 'guess', 'POST', from(stranger))).status).toBe(401);
    // the fourth is refused whatever it is, with the same answer for a known and an unknown URL
    const known = await send(url, body, h.secret!, 'POST', from(stranger));
    const unknown = await send(at(perAddress.url, 'nobody', 'x'), body, 'guess', 'POST', from(stranger));
    expect(known.status).toBe(429);
    const retryAfter = Number(known.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const [a, b] = [await seenOf(known), await seenOf(unknown)];
    expect(b.status).toBe(429);
    expect(JSON.parse(Buffer.from(a.body, 'hex').toString())).toEqual({ error: 'rate limit exceeded', retry_after_seconds: retryAfter });
    expect(b.headers.map(([n]) => n)).toEqual(a.headers.map(([n]) => n));
    // the real sender, from its own address, is not affected
    expect((await send(url, body, h.secret!, 'POST', from(freshV4()))).status).toBe(200);
    // IPv6: the hosts of one /64 share a count; another /64 has its own
    const net = freshV6(1);
    for (let host = 1; host <= 3; host++) {
      expect((await send(url, body, h.secret!, 'POST', from(net.replace(/::1$/, `::${host}`)))).status).toBe(200);
    }
    expect((await send(url, body, h.secret!, 'POST', from(net.replace(/::1$/, '::4')))).status).toBe(429);
    expect((await send(url, body, h.secret!, 'POST', from(freshV6()))).status).toBe(200);
  });

  it('does not limit a webhook with rate_limit_per_minute 0', async () => {
    const h = await hook('unlimited', { rate_limit_per_minute: 0 });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await send(at(server.url, 'acme', 'unlimited'), body, h.secret!)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(await deliveryCount(h.id)).toBe(5);
  });
});

describe('config cache', () => {
  it('holds at most INTAKE_CONFIG_CACHE_MAX_ENTRIES URLs, however many slugs strangers try', async () => {
    const h = await hook('bounded');
    const cache = new ConfigCache(db.pool, db.url, Buffer.from(testMasterKey, 'base64'), 30_000, 5);
    await cache.start();
    try {
      for (let i = 0; i < 50; i++) expect(await cache.get(`guess-${i}`, 'alerts')).toBeNull();
      for (let i = 0; i < 20; i++) expect((await cache.get('acme', `guess-${i}`))?.webhook).toBeNull();
      expect(cache.size).toBeLessThanOrEqual(5);
      // an evicted known webhook is simply loaded again
      expect((await cache.get('acme', 'bounded'))?.webhook?.id).toBe(h.id);
      for (let i = 50; i < 60; i++) await cache.get(`guess-${i}`, 'alerts');
      expect((await cache.get('acme', 'bounded'))?.webhook?.id).toBe(h.id);
      expect(cache.size).toBeLessThanOrEqual(5);
    } finally {
      await cache.close();
    }
  });

  it('drops a cached config when the webhook is deactivated (NOTIFY), and picks up reactivation', async () => {
    const body = sample('ninjaone-condition.triggered.json');
    const h = await hook('cached');
    const url = at(server.url, 'acme', 'cached');
    expect((await send(url, body, h.secret!)).status).toBe(200);
    const status = (want: number) => waitFor(async () => ((await send(url, body, h.secret!)).status === want ? true : undefined), 3000, `HTTP ${want}`);

    await db.pool.query('update intake.inbound_webhooks set is_active = false where inbound_webhook_id = $1', [h.id]);
    await status(401);
    await db.pool.query('update intake.inbound_webhooks set is_active = true where inbound_webhook_id = $1', [h.id]);
    await status(200);
  });
});

describe('sample capture', () => {
  it('keeps the first verified body in the window as sample_payload and closes the window', async () => {
    const h = await hook('sampled');
    const url = at(server.url, 'acme', 'sampled');
    const sampleRow = async () =>
      (await db.pool.query('select sample_payload, sample_captured_at, sample_capture_until from intake.inbound_webhooks where inbound_webhook_id = $1', [h.id])).rows[0];

    const early = sample('opsgenie-alert.create.json');
    expect((await send(url, early, h.secret!)).status).toBe(200);
    expect((await sampleRow()).sample_payload).toBeNull();

    const { rows: [opened] } = await db.pool.query('select intake.capture_sample($1, 5) as until', [h.id]);
    expect(opened.until.getTime()).toBeGreaterThan(Date.now() + 4 * 60_000);
    // neither a refused request nor an unparsable one takes the sample
    expect((await send(url, sample('datadog-monitor.triggered.json'), 'not-the-secret-at-all')).status).toBe(401);
    expect((await send(url, '{"truncated":', h.secret!)).status).toBe(400);
    expect((await sampleRow()).sample_capture_until).not.toBeNull();

    const first = sample('alertmanager-alert.firing.json');
    expect((await send(url, first, h.secret!)).status).toBe(200);
    const captured = await sampleRow();
    expect(captured.sample_payload).toEqual(JSON.parse(first));
    expect(captured.sample_capture_until).toBeNull();
    expect(captured.sample_captured_at).toBeInstanceOf(Date);

    expect((await send(url, sample('wazuh-alert.shuffle-integration.json'), h.secret!)).status).toBe(200);
    expect((await sampleRow()).sample_payload).toEqual(JSON.parse(first));
  });
});
