// Routing around authentication: indistinguishable 401s, methods, the inbound_webhooks_enabled
// flag, rate limits (shared through Redis), config-cache invalidation and sample capture.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookCreateInput } from '../core/webhookConfig.ts';
import type { CreatedWebhook } from '../core/webhooks.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant, makeWebhook, startTestServer, waitFor, type TestServer } from './support/server.ts';

const sample = (name: string): string =>
  JSON.stringify(JSON.parse(readFileSync(new URL(`./fixtures/samples/${name}`, import.meta.url), 'utf8')));
const handler = { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: '"x"' } } as const;

let db: TestDatabase;
let server: TestServer;
let second: TestServer;
let envOff: TestServer;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { worker: false });
  second = await startTestServer(db.url, { worker: false });
  envOff = await startTestServer(db.url, { worker: false, env: { INTAKE_INBOUND_WEBHOOKS_ENABLED: 'false' } });
  await makeTenant(db.pool, 'acme');
});
afterAll(async () => {
  await envOff?.stop();
  await second?.stop();
  await server?.stop();
  await db?.drop();
});

function hook(slug: string, extra: Partial<WebhookCreateInput> = {}, tenant = 'acme'): Promise<CreatedWebhook> {
  return makeWebhook(db.pool, tenant, { name: slug, slug, auth: { auth_type: 'hmac_sha256' }, handler, ...extra });
}

/** A request signed with `secret` (hex HMAC in x-signature, the default format). */
function send(url: string, body: string, secret: string, method = 'POST') {
  return fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'Alertmanager/0.28.1',
      'x-signature': createHmac('sha256', secret).update(body).digest('hex'),
    },
    body,
  });
}
const at = (base: string, tenant: string, slug: string) => `${base}/api/inbound/${tenant}/${slug}`;

async function deliveryCount(webhookId: string): Promise<number> {
  const { rows } = await db.pool.query('select count(*)::int as n from intake.inbound_webhook_deliveries where inbound_webhook_id = $1', [webhookId]);
  return rows[0].n;
}

describe('indistinguishable 401s', () => {
  it('answers unknown tenant, unknown webhook, inactive webhook and bad signature with the same bytes and headers', async () => {
    const body = sample('alertmanager-alert.firing.json');
    const active = await hook('alerts');
    const retired = await hook('retired', { is_active: false });
    const responses = await Promise.all([
      send(at(server.url, 'nobody', 'alerts'), body, active.secret!),
      send(at(server.url, 'acme', 'no-such-hook'), body, active.secret!),
      send(at(server.url, 'acme', 'retired'), body, retired.secret!), // correctly signed, but inactive
      send(at(server.url, 'acme', 'alerts'), body, retired.secret!),
    ]);
    const seen = await Promise.all(responses.map(async (res) => ({
      status: res.status,
      body: Buffer.from(await res.arrayBuffer()).toString('hex'),
      headers: [...res.headers].filter(([name]) => name !== 'date'),
    })));
    expect(seen[0]!.status).toBe(401);
    expect(Buffer.from(seen[0]!.body, 'hex').toString()).toBe('{"error":"unauthorized"}');
    for (const other of seen.slice(1)) expect(other).toEqual(seen[0]);

    const { rows } = await db.pool.query(
      `select webhook_slug, auth_status, inbound_webhook_id from intake.inbound_webhook_auth_rejections where webhook_slug in ('no-such-hook', 'retired', 'alerts') order by webhook_slug`);
    expect(rows).toEqual([
      { webhook_slug: 'alerts', auth_status: 'rejected_signature', inbound_webhook_id: active.id },
      { webhook_slug: 'no-such-hook', auth_status: 'unknown_webhook', inbound_webhook_id: null },
      { webhook_slug: 'retired', auth_status: 'inactive_webhook', inbound_webhook_id: retired.id },
    ]);
    expect(await deliveryCount(retired.id)).toBe(0);
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
    expect(await res.json()).toEqual({ status: 'ok', worker: false });
  });
});

describe('inbound_webhooks_enabled', () => {
  const body = sample('zabbix-problem.eda-webhook.json');

  it('answers 404 once the tenant flag is turned off, even to a valid signature', async () => {
    await makeTenant(db.pool, 'switched');
    const h = await hook('zabbix', {}, 'switched');
    expect((await send(at(server.url, 'switched', 'zabbix'), body, h.secret!)).status).toBe(200);
    await db.pool.query(`update psa.tenants set inbound_webhooks_enabled = false where slug = 'switched'`);
    const res = await waitFor(async () => {
      const r = await send(at(server.url, 'switched', 'zabbix'), body, h.secret!);
      return r.status === 404 ? r : undefined;
    }, 3000, 'the tenant flag to take effect');
    expect(await res.json()).toEqual({ error: 'not found' });
    const before = await deliveryCount(h.id);
    expect((await send(at(server.url, 'switched', 'zabbix'), body, h.secret!)).status).toBe(404);
    expect(await deliveryCount(h.id)).toBe(before);
  });

  it('follows INTAKE_INBOUND_WEBHOOKS_ENABLED=false when the flag is null, and a tenant true overrides it', async () => {
    const followsEnv = await hook('zabbix-env');
    expect((await send(at(envOff.url, 'acme', 'zabbix-env'), body, followsEnv.secret!)).status).toBe(404);
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
