// The receiver's authentication over real HTTP: every scheme and every HMAC signature format,
// signed here the way each sender documents it, plus the rejection log and trusted proxies.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authConfigSchema, type WebhookCreateInput } from '../core/webhookConfig.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant, makeWebhook, startTestServer, waitFor, type TestServer } from './support/server.ts';

const sample = (name: string): string =>
  JSON.stringify(JSON.parse(readFileSync(new URL(`./fixtures/samples/${name}`, import.meta.url), 'utf8')));
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data);
const whsec = () => `whsec_${randomBytes(24).toString('base64')}`;
const now = () => Math.floor(Date.now() / 1000);
const handler = { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: '"x"' } } as const;

let db: TestDatabase;
let server: TestServer;
let proxied: TestServer;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { worker: false });
  proxied = await startTestServer(db.url, { worker: false, env: { INTAKE_TRUSTED_PROXIES: '127.0.0.1/32' } });
  await makeTenant(db.pool, 'acme');
});
afterAll(async () => {
  await proxied?.stop();
  await server?.stop();
  await db?.drop();
});

async function hook(slug: string, auth: WebhookCreateInput['auth'], secret?: string) {
  return makeWebhook(db.pool, 'acme', { name: slug, slug, auth, handler, ...(secret ? { secret } : {}) });
}

function post(path: string, body: string, headers: Record<string, string>, base = server.url) {
  return fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
}

async function delivery(id: string) {
  const { rows } = await db.pool.query(`select b.* from intake.inbound_webhook_deliveries d cross join lateral intake.delivery_with_body(d) b where d.delivery_id = $1`, [id]);
  return rows[0];
}

/**
 * The webhook's newest rejection, once one more than last time has been recorded: the receiver
 * answers first and writes the rejection log behind the answer.
 */
const rejectionsSeen = new Map<string, number>();
async function lastRejection(webhookId: string) {
  const seen = rejectionsSeen.get(webhookId) ?? 0;
  const rows = await waitFor(async () => {
    const { rows } = await db.pool.query(
      'select * from intake.inbound_webhook_auth_rejections where inbound_webhook_id = $1 order by received_at desc',
      [webhookId],
    );
    return rows.length > seen ? rows : undefined;
  }, 3000, `rejection ${seen + 1} of webhook ${webhookId}`);
  rejectionsSeen.set(webhookId, rows.length);
  return rows[0];
}

/** 200 with a delivery id whose row is verified and holds the body; returns the row. */
async function expectAccepted(res: Response, webhookId: string, body?: string) {
  expect(res.status).toBe(200);
  const json = await res.json();
  expect(Object.keys(json)).toEqual(['delivery_id']);
  const row = await delivery(json.delivery_id);
  expect(row).toMatchObject({ inbound_webhook_id: webhookId, auth_status: 'verified', dispatch_status: 'pending' });
  if (body !== undefined) expect(row.request_body).toEqual(JSON.parse(body));
  return row;
}

/** 401 with the generic body, logged as `status` with a reason that never holds a secret. */
async function expectRejected(res: Response, webhookId: string, status: string, secrets: string[], reason?: RegExp) {
  expect(res.status).toBe(401);
  expect(await res.text()).toBe('{"error":"unauthorized"}');
  const rejection = await lastRejection(webhookId);
  expect(rejection).toMatchObject({ auth_status: status, webhook_slug: expect.any(String), request_method: 'POST' });
  expect(rejection.reason.length).toBeGreaterThan(0);
  if (reason) expect(rejection.reason).toMatch(reason);
  for (const secret of secrets) expect(rejection.reason).not.toContain(secret);
  return rejection;
}

interface FormatCase {
  name: string;
  sample: string;
  auth: WebhookCreateInput['auth'];
  secret?: string;
  signatureHeader: string;
  sign(body: string, secret: string, t: number): Record<string, string>;
}

const formats: FormatCase[] = [
  {
    name: 'hex (Sentry, bare hex)', sample: 'sentry-event_alert.triggered.json', signatureHeader: 'sentry-hook-signature',
    auth: { auth_type: 'hmac_sha256', signature_format: 'hex', signature_header: 'Sentry-Hook-Signature' },
    sign: (b, s, t) => ({ 'sentry-hook-signature': hmac(s, b).digest('hex'), 'sentry-hook-resource': 'event_alert', 'sentry-hook-timestamp': String(t) }),
  },
  {
    name: 'hex with sha256= prefix', sample: 'wazuh-alert.shuffle-integration.json', signatureHeader: 'x-signature',
    auth: { auth_type: 'hmac_sha256', signature_format: 'hex' },
    sign: (b, s) => ({ 'x-signature': `sha256=${hmac(s, b).digest('hex')}` }),
  },
  {
    name: 'hex (PagerDuty v1=, two during rotation)', sample: 'pagerduty-incident.triggered.json', signatureHeader: 'x-pagerduty-signature',
    auth: { auth_type: 'hmac_sha256', signature_format: 'hex', signature_header: 'x-pagerduty-signature' },
    sign: (b, s) => ({ 'x-pagerduty-signature': `v1=${hmac('old-rotated-secret-000', b).digest('hex')},v1=${hmac(s, b).digest('hex')}` }),
  },
  {
    name: 'base64 (Xero)', sample: 'xero-contact.update.json', signatureHeader: 'x-xero-signature',
    auth: { auth_type: 'hmac_sha256', signature_format: 'base64', signature_header: 'x-xero-signature' },
    sign: (b, s) => ({ 'x-xero-signature': hmac(s, b).digest('base64') }),
  },
  {
    name: 'github', sample: 'github-issues.opened.json', signatureHeader: 'x-hub-signature-256',
    auth: { auth_type: 'hmac_sha256', signature_format: 'github' },
    sign: (b, s) => ({ 'x-hub-signature-256': `sha256=${hmac(s, b).digest('hex')}`, 'x-github-event': 'issues', 'x-github-delivery': randomUUID() }),
  },
  {
    name: 'stripe (own whsec_ secret)', sample: 'stripe-invoice.paid.json', signatureHeader: 'stripe-signature', secret: `whsec_${randomBytes(16).toString('hex')}`,
    auth: { auth_type: 'hmac_sha256', signature_format: 'stripe' },
    sign: (b, s, t) => ({ 'stripe-signature': `t=${t},v1=${hmac(s, `${t}.${b}`).digest('hex')}` }),
  },
  {
    name: 'slack', sample: 'uptimekuma-monitor.down.json', signatureHeader: 'x-slack-signature',
    auth: { auth_type: 'hmac_sha256', signature_format: 'slack' },
    sign: (b, s, t) => ({ 'x-slack-request-timestamp': String(t), 'x-slack-signature': `v0=${hmac(s, `v0:${t}:${b}`).digest('hex')}` }),
  },
  {
    name: 'standard-webhooks (own whsec_ secret)', sample: 'gitlab-pipeline.json', signatureHeader: 'webhook-signature', secret: whsec(),
    auth: { auth_type: 'hmac_sha256', signature_format: 'standard-webhooks' },
    sign: (b, s, t) => {
      const id = `msg_${randomBytes(8).toString('hex')}`;
      const key = Buffer.from(s.slice('whsec_'.length), 'base64');
      return { 'webhook-id': id, 'webhook-timestamp': String(t), 'webhook-signature': `v1,${hmac(key, `${id}.${t}.${b}`).digest('base64')}` };
    },
  },
];

describe.each(formats.map((f, i) => ({ ...f, slug: `hmac-${i}` })))('hmac_sha256 $name', (c) => {
  const body = sample(c.sample);
  let created: Awaited<ReturnType<typeof hook>>;
  beforeAll(async () => {
    created = await hook(c.slug, c.auth, c.secret);
    if (c.secret) expect(created.secret).toBe(c.secret);
  });

  it('accepts a correctly signed request and keeps the signature out of the log', async () => {
    const row = await expectAccepted(await post(`/api/inbound/acme/${c.slug}`, body, c.sign(body, created.secret!, now())), created.id, body);
    expect(row.request_headers).not.toHaveProperty(c.signatureHeader);
  });

  it('rejects a request signed with another secret', async () => {
    const wrong = whsec();
    const res = await post(`/api/inbound/acme/${c.slug}`, body, c.sign(body, wrong, now()));
    await expectRejected(res, created.id, 'rejected_signature', [created.secret!, wrong], /match/);
  });

  it('rejects a body changed after signing', async () => {
    const headers = c.sign(body, created.secret!, now());
    const res = await post(`/api/inbound/acme/${c.slug}`, body.replace(/}$/, ',"x":1}'), headers);
    await expectRejected(res, created.id, 'rejected_signature', [created.secret!]);
  });

  if (['stripe', 'slack', 'standard-webhooks'].some((f) => c.name.startsWith(f))) {
    it('rejects a timestamp older than the 300 s tolerance', async () => {
      const res = await post(`/api/inbound/acme/${c.slug}`, body, c.sign(body, created.secret!, now() - 306));
      await expectRejected(res, created.id, 'rejected_signature', [created.secret!], /tolerance/);
    });
  }
});

describe('bearer', () => {
  const body = sample('alertmanager-alert.firing.json');

  it('accepts Authorization: Bearer <token> and rejects another token', async () => {
    const h = await hook('bearer-auth', { auth_type: 'bearer' });
    const row = await expectAccepted(await post('/api/inbound/acme/bearer-auth', body, { authorization: `Bearer ${h.secret}` }), h.id, body);
    expect(row.request_headers).not.toHaveProperty('authorization');
    const wrong = randomBytes(32).toString('base64url');
    await expectRejected(await post('/api/inbound/acme/bearer-auth', body, { authorization: `Bearer ${wrong}` }), h.id, 'rejected_bearer', [h.secret!, wrong]);
    await expectRejected(await post('/api/inbound/acme/bearer-auth', body, {}), h.id, 'rejected_no_auth', [h.secret!]);
  });

  it('accepts a token in a custom header (GitLab X-Gitlab-Token) and rejects a wrong one', async () => {
    const gitlab = sample('gitlab-pipeline.json');
    const h = await hook('gitlab', { auth_type: 'bearer', header: 'X-Gitlab-Token' }, 'gitlab-shared-token-1234567890');
    const headers = { 'x-gitlab-event': 'Pipeline Hook', 'x-gitlab-token': 'gitlab-shared-token-1234567890' };
    const row = await expectAccepted(await post('/api/inbound/acme/gitlab', gitlab, headers), h.id, gitlab);
    expect(row.request_headers).not.toHaveProperty('x-gitlab-token');
    expect(row.request_headers['x-gitlab-event']).toBe('Pipeline Hook');
    const res = await post('/api/inbound/acme/gitlab', gitlab, { ...headers, 'x-gitlab-token': 'gitlab-shared-token-WRONG' });
    await expectRejected(res, h.id, 'rejected_bearer', ['gitlab-shared-token'], /x-gitlab-token/);
    // "Bearer <token>" is only unwrapped for Authorization: a custom header carries the bare token
    const wrapped = await post('/api/inbound/acme/gitlab', gitlab, { 'x-gitlab-token': 'Bearer gitlab-shared-token-1234567890' });
    expect(wrapped.status).toBe(401);
  });
});

describe('path_token', () => {
  it('accepts ?token=, stores the path without it, and rejects a wrong token', async () => {
    const body = sample('datadog-monitor.triggered.json');
    const h = await hook('path-token', { auth_type: 'path_token' });
    expect(h.url).toContain(`?token=${encodeURIComponent(h.secret!)}`);
    const row = await expectAccepted(
      await post(`/api/inbound/acme/path-token?source=dd&token=${encodeURIComponent(h.secret!)}`, body, {}), h.id, body);
    expect(row.request_path).toBe('/api/inbound/acme/path-token?source=dd');
    expect(JSON.stringify(row)).not.toContain(h.secret!);
    const wrong = randomBytes(32).toString('base64url');
    await expectRejected(await post(`/api/inbound/acme/path-token?token=${wrong}`, body, {}), h.id, 'rejected_bearer', [h.secret!, wrong]);
    await expectRejected(await post('/api/inbound/acme/path-token', body, {}), h.id, 'rejected_no_auth', [h.secret!]);
  });

  it('honours a custom query_param and drops it from the stored path', async () => {
    const body = sample('opsgenie-alert.create.json');
    const h = await hook('path-key', { auth_type: 'path_token', query_param: 'key' });
    const res = await post(`/api/inbound/acme/path-key?key=${encodeURIComponent(h.secret!)}`, body, {});
    const row = await expectAccepted(res, h.id);
    expect(row.request_path).toBe('/api/inbound/acme/path-key');
  });
});

describe('ip_allowlist', () => {
  const body = sample('zabbix-problem.eda-webhook.json');

  it('accepts 127.0.0.1/32 and rejects a 10.0.0.0/8-only webhook; X-Forwarded-For from an untrusted peer is ignored', async () => {
    const local = await hook('ip-local', { auth_type: 'ip_allowlist', cidrs: ['127.0.0.1/32'] });
    const row = await expectAccepted(await post('/api/inbound/acme/ip-local', body, {}), local.id, body);
    expect(row.source_ip).toBe('127.0.0.1');
    const ten = await hook('ip-ten', { auth_type: 'ip_allowlist', cidrs: ['10.0.0.0/8'] });
    const rejection = await expectRejected(await post('/api/inbound/acme/ip-ten', body, {}), ten.id, 'rejected_ip', [], /127\.0\.0\.1/);
    expect(rejection.source_ip).toBe('127.0.0.1');
    await expectRejected(await post('/api/inbound/acme/ip-ten', body, { 'x-forwarded-for': '10.1.2.3' }), ten.id, 'rejected_ip', [], /127\.0\.0\.1/);
  });

  it('believes X-Forwarded-For only from a trusted proxy, back to the first untrusted hop (IPv4 and IPv6)', async () => {
    const ten = await hook('ip-ten-proxied', { auth_type: 'ip_allowlist', cidrs: ['10.0.0.0/8'] });
    const via = (path: string, xff: string) => post(path, body, { 'x-forwarded-for': xff }, proxied.url);
    const row = await expectAccepted(await via('/api/inbound/acme/ip-ten-proxied', '10.1.2.3'), ten.id, body);
    expect(row.source_ip).toBe('10.1.2.3');
    // a client that forges the leftmost entry is still seen as the hop the proxy appended
    await expectRejected(await via('/api/inbound/acme/ip-ten-proxied', '10.9.9.9, 203.0.113.9'), ten.id, 'rejected_ip', [], /203\.0\.113\.9/);

    const local = await hook('ip-local-proxied', { auth_type: 'ip_allowlist', cidrs: ['127.0.0.1/32'] });
    await expectRejected(await via('/api/inbound/acme/ip-local-proxied', '203.0.113.9'), local.id, 'rejected_ip', [], /203\.0\.113\.9/);

    const v6 = await hook('ip-v6', { auth_type: 'ip_allowlist', cidrs: ['2001:db8::/32'] });
    const v6row = await expectAccepted(await via('/api/inbound/acme/ip-v6', '2001:db8::5'), v6.id, body);
    expect(v6row.source_ip).toBe('2001:db8::5');
    await expectRejected(await via('/api/inbound/acme/ip-v6', '2001:db9::5'), v6.id, 'rejected_ip', []);
  });
});

describe("the sender's delivery id is the default idempotency key", () => {
  const github = formats.find((f) => f.name === 'github')!;
  const stripe = formats.find((f) => f.name.startsWith('stripe'))!;
  const standard = formats.find((f) => f.name.startsWith('standard-webhooks'))!;

  async function twice(slug: string, c: FormatCase, body: string, headersOf: () => Record<string, string>, extra: Partial<WebhookCreateInput> = {}) {
    const h = await makeWebhook(db.pool, 'acme', { name: slug, slug, auth: c.auth, handler, ...(c.secret ? { secret: c.secret } : {}), ...extra });
    const headers = headersOf();
    const first = await post(`/api/inbound/acme/${slug}`, body, headers);
    const again = await post(`/api/inbound/acme/${slug}`, body, headers); // the sender's retry
    expect([first.status, again.status]).toEqual([200, 200]);
    return { h, first: await first.json(), again: await again.json() };
  }

  it('GitHub: X-GitHub-Delivery', async () => {
    const body = sample(github.sample);
    const secret = `gh-${randomBytes(12).toString('hex')}`;
    const { first, again } = await twice('default-key-github', { ...github, secret }, body, () => github.sign(body, secret, now()));
    expect(again).toEqual({ delivery_id: first.delivery_id, duplicate: true });
    const row = await delivery(first.delivery_id);
    expect(row.idempotency_key).toMatch(/^[0-9a-f-]{36}$/);
    // another delivery id (a new event with the same body) is a new delivery
    const other = await post('/api/inbound/acme/default-key-github', body, github.sign(body, secret, now()));
    expect(Object.keys(await other.json())).toEqual(['delivery_id']);
  });

  it('Standard Webhooks: webhook-id', async () => {
    const body = sample(standard.sample);
    const { first, again } = await twice('default-key-standard', standard, body, () => standard.sign(body, standard.secret!, now()));
    expect(again).toEqual({ delivery_id: first.delivery_id, duplicate: true });
    expect((await delivery(first.delivery_id)).idempotency_key).toMatch(/^msg_/);
  });

  it('Stripe: the event id in the body', async () => {
    const body = sample(stripe.sample);
    const { first, again } = await twice('default-key-stripe', stripe, body, () => stripe.sign(body, stripe.secret!, now()));
    expect(again).toEqual({ delivery_id: first.delivery_id, duplicate: true });
    expect((await delivery(first.delivery_id)).idempotency_key).toBe(JSON.parse(body).id);
  });

  it('tolerance_seconds stays capped at a day: a timestamped format cannot be opened to old replays', () => {
    expect(authConfigSchema.safeParse({ auth_type: 'hmac_sha256', signature_format: 'stripe', tolerance_seconds: 86_400 }).success).toBe(true);
    expect(authConfigSchema.safeParse({ auth_type: 'hmac_sha256', signature_format: 'stripe', tolerance_seconds: 86_401 }).success).toBe(false);
  });

  it("the admin's own source wins over the default", async () => {
    const body = sample(github.sample);
    const secret = `gh-${randomBytes(12).toString('hex')}`;
    let n = 0;
    const delivery = randomUUID();
    const { first, again } = await twice('admin-key-github', { ...github, secret }, body,
      () => ({ ...github.sign(body, secret, now()), 'x-github-delivery': delivery, 'x-my-key': `k${++n}` }),
      { idempotency: { type: 'header', value: 'x-my-key' } });
    // the same X-GitHub-Delivery twice, but the admin keyed on x-my-key (the same value both times here)
    expect(again).toEqual({ delivery_id: first.delivery_id, duplicate: true });
    const other = await post('/api/inbound/acme/admin-key-github', body, { ...github.sign(body, secret, now()), 'x-github-delivery': delivery, 'x-my-key': 'k2' });
    expect(Object.keys(await other.json())).toEqual(['delivery_id']);
  });
});

describe('a captured signed request replayed', () => {
  const byName = (prefix: string) => formats.find((f) => f.name.startsWith(prefix))!;
  const hex = byName('hex (Sentry');
  const github = byName('github');
  const slack = byName('slack');
  const stripe = byName('stripe');
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer(db.url, { worker: false, env: { INTAKE_DEDUPE_UNTIMESTAMPED_REPLAYS: 'true' } });
  });
  afterAll(async () => {
    await strict?.stop();
  });

  /** Sends the request, then (after `waitMs`) the same body with `replayHeaders`; both answers. */
  async function replayed(slug: string, c: FormatCase, headers: Record<string, string>, body: string,
    options: { extra?: Partial<WebhookCreateInput>; replayHeaders?: Record<string, string>; waitMs?: number; base?: string } = {}) {
    const h = await makeWebhook(db.pool, 'acme', { name: slug, slug, auth: c.auth, handler, ...(c.secret ? { secret: c.secret } : {}), ...options.extra });
    const first = await (await post(`/api/inbound/acme/${slug}`, body, headers, options.base)).json();
    if (options.waitMs) await new Promise((resolve) => setTimeout(resolve, options.waitMs));
    const res = await post(`/api/inbound/acme/${slug}`, body, options.replayHeaders ?? headers, options.base);
    expect(res.status).toBe(200);
    return { h, first, again: await res.json() };
  }
  async function replayRows(webhookId: string) {
    const { rows } = await db.pool.query(
      `select dispatch_status, duplicate_of, replay_digest from intake.inbound_webhook_deliveries where inbound_webhook_id = $1 order by received_at`, [webhookId]);
    return rows;
  }

  it('Stripe after its idempotency window, inside the tolerance: a duplicate of the first (the digest has no window)', async () => {
    const body = sample(stripe.sample);
    const { h, first, again } = await replayed('replay-stripe', stripe, stripe.sign(body, stripe.secret!, now()), body,
      { extra: { idempotency_window_seconds: 1 }, waitMs: 1200 });
    // Before: the event id's window had passed, and the replay was a new delivery.
    expect(again).toEqual({ delivery_id: first.delivery_id, duplicate: true });
    const rows = await replayRows(h.id);
    expect(rows.map((r) => [r.dispatch_status, r.duplicate_of])).toEqual([['pending', null], ['duplicate', first.delivery_id]]);
    expect(rows[0].replay_digest).toHaveLength(32);
    expect(rows[1].replay_digest).toBeNull();
  });

  it('Slack inside its tolerance: a duplicate; the sender signing anew (a new timestamp) is a new request', async () => {
    const body = sample(slack.sample);
    const secret = `slack-${randomBytes(12).toString('hex')}`;
    const t = now();
    // Before: Slack has no delivery id, so no key: the replay was applied again.
    const { h, first, again } = await replayed('replay-slack', { ...slack, secret }, slack.sign(body, secret, t), body);
    expect(again).toEqual({ delivery_id: first.delivery_id, duplicate: true });
    const resigned = await post('/api/inbound/acme/replay-slack', body, slack.sign(body, secret, t - 1));
    expect(Object.keys(await resigned.json())).toEqual(['delivery_id']);
    expect((await replayRows(h.id)).map((r) => r.dispatch_status)).toEqual(['pending', 'duplicate', 'pending']);
  });

  it('no timestamp signed (hex): by default accepted again, as the same body may be the next event', async () => {
    const body = sample(hex.sample);
    const secret = `hex-${randomBytes(12).toString('hex')}`;
    const { h, first, again } = await replayed('replay-hex-default', { ...hex, secret }, hex.sign(body, secret, now()), body);
    expect(again.delivery_id).not.toBe(first.delivery_id);
    expect((await replayRows(h.id)).map((r) => r.replay_digest)).toEqual([null, null]);
  });

  describe('with INTAKE_DEDUPE_UNTIMESTAMPED_REPLAYS=true', () => {
    it('hex: a duplicate of the first, however the signature is written, after any window', async () => {
      const body = sample(hex.sample);
      const secret = `hex-${randomBytes(12).toString('hex')}`;
      const headers: Record<string, string> = { ...hex.sign(body, secret, now()), 'x-event': 'e-1' };
      // the same signature in capitals: still valid hex, still the same request
      const upper = { ...headers, 'sentry-hook-signature': headers['sentry-hook-signature']!.toUpperCase() };
      const { first, again } = await replayed('replay-hex', { ...hex, secret }, headers, body, {
        extra: { idempotency: { type: 'header', value: 'x-event' }, idempotency_window_seconds: 1 }, replayHeaders: upper, waitMs: 1200, base: strict.url,
      });
      expect(again).toEqual({ delivery_id: first.delivery_id, duplicate: true });
    });

    it('GitHub under another X-GitHub-Delivery (not signed): still a duplicate', async () => {
      const body = sample(github.sample);
      const secret = `gh-${randomBytes(12).toString('hex')}`;
      const headers = github.sign(body, secret, now());
      const { first, again } = await replayed('replay-github', { ...github, secret }, headers, body,
        { replayHeaders: { ...headers, 'x-github-delivery': randomUUID() }, base: strict.url });
      expect(again).toEqual({ delivery_id: first.delivery_id, duplicate: true });
    });
  });

  it('bearer: no signature to tell a replay by, so the same request is accepted again (docs/receiver.md says so)', async () => {
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const h = await makeWebhook(db.pool, 'acme', { name: 'replay-bearer', slug: 'replay-bearer', auth: { auth_type: 'bearer' }, handler, secret: token });
    const answers = [];
    for (let i = 0; i < 2; i++) answers.push(await (await post('/api/inbound/acme/replay-bearer', '{"a":1}', { authorization: `Bearer ${token}` }, strict.url)).json());
    expect(answers[1].delivery_id).not.toBe(answers[0].delivery_id);
    expect((await replayRows(h.id)).map((r) => r.replay_digest)).toEqual([null, null]);
  });
});

describe('rejection log', () => {
  it('records who was refused and why, with no column that could hold the body', async () => {
    const h = await hook('logged', { auth_type: 'hmac_sha256', signature_format: 'github' });
    const body = sample('github-workflow_run.completed.json');
    const res = await post('/api/inbound/acme/logged', body, { 'x-hub-signature-256': 'sha256=' + '00'.repeat(32), 'user-agent': 'GitHub-Hookshot/abc123' });
    const rejection = await expectRejected(res, h.id, 'rejected_signature', [h.secret!], /x-hub-signature-256: signature does not match/);
    const { rows: [tenant] } = await db.pool.query(`select tenant from psa.tenants where slug = 'acme'`);
    expect(rejection).toMatchObject({ tenant: tenant.tenant, webhook_slug: 'logged', source_ip: '127.0.0.1', user_agent: 'GitHub-Hookshot/abc123' });
    expect(JSON.stringify(rejection)).not.toContain('workflow_run');
    const { rows } = await db.pool.query(
      `select column_name from information_schema.columns where table_schema = 'intake' and table_name = 'inbound_webhook_auth_rejections'`);
    expect(rows.map((r) => r.column_name).filter((n: string) => /body|payload|header/.test(n))).toEqual([]);
    const { rows: deliveries } = await db.pool.query('select 1 from intake.inbound_webhook_deliveries where inbound_webhook_id = $1', [h.id]);
    expect(deliveries).toHaveLength(0);
  });
});
