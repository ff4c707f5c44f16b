// Signing in (api/session.ts, CONTRACT.md "Sign-in and sessions") over real HTTP against the
// real server: the setup link opens the first workspace once; sign-in sets an HttpOnly,
// SameSite=Lax cookie that GraphQL and REST accept with the session's CSRF token; sign-out,
// idle and absolute expiry end a session; every failed sign-in gets the same bytes; attempts are
// limited per address and per IP. Sign-ins come "through a proxy" (X-Forwarded-For from the
// trusted 127.0.0.1) with an address of this file's own, because the Redis that counts
// attempts is shared by every test run on the machine.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../core/access.ts';
import { createSetupToken } from '../core/sessions.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { userWithKey } from './support/graphql.ts';
import { startTestServer, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
const WORKSPACE = `ws-${randomBytes(4).toString('hex')}`;
const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const VIEWER = { email: 'viewer@example.com', password: 'viewer password 123' };
/** a client address of this file's own (see the header) */
const myIp = () => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;
const IP = myIp();

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, {
    worker: false,
    env: { INTAKE_TRUSTED_PROXIES: '127.0.0.1/32', INTAKE_SIGN_IN_LIMIT_PER_ADDRESS: '10', INTAKE_SIGN_IN_LIMIT_PER_IP: '20' },
  });
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

async function call(method: string, path: string, options: { body?: unknown; cookie?: string; csrf?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'x-forwarded-for': IP, ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.cookie) headers.cookie = `intake_session=${options.cookie}`;
  if (options.csrf) headers['x-csrf-token'] = options.csrf;
  const res = await fetch(server.url + path, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** The session cookie's value and attributes from an answer's Set-Cookie. */
function sessionCookie(answer: Answer): { value: string; attributes: string[] } {
  const header = answer.headers.getSetCookie().find((c) => c.startsWith('intake_session='));
  if (!header) throw new Error(`no session cookie in ${JSON.stringify(answer.headers.getSetCookie())}`);
  const [pair, ...attributes] = header.split(';').map((s) => s.trim());
  return { value: pair!.slice('intake_session='.length), attributes };
}

async function signIn(who: { email: string; password: string }, workspace = WORKSPACE, ip = IP) {
  const answer = await call('POST', '/auth/sign-in', { body: { workspace, email: who.email, password: who.password }, headers: { 'x-forwarded-for': ip } });
  expect(answer.status, answer.text).toBe(200);
  const cookie = sessionCookie(answer).value;
  return { cookie, csrf: answer.body.csrfToken as string, body: answer.body };
}

function graphql(session: { cookie: string; csrf?: string }, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return call('POST', '/graphql', { body: { query, variables }, cookie: session.cookie, ...(session.csrf ? { csrf: session.csrf } : {}), headers });
}

async function newSetupToken(): Promise<string | null> {
  const client = await db.pool.connect();
  try {
    return await createSetupToken(client, 24);
  } finally {
    client.release();
  }
}

describe('setup', () => {
  let token: string;

  it('a setup link is offered while no tenant exists; a newer one replaces it', async () => {
    expect((await call('GET', '/auth/session')).body).toEqual({ signedIn: false, setupRequired: true });
    const first = (await newSetupToken())!;
    token = (await newSetupToken())!;
    expect(token).toMatch(/^setup_[A-Za-z0-9_-]{43}$/);
    expect((await call('GET', `/auth/setup?token=${first}`)).status).toBe(410);
    expect((await call('GET', `/auth/setup?token=${token}`)).body).toEqual({ valid: true });
    const unknown = await call('GET', `/auth/setup?token=setup_${randomBytes(32).toString('base64url')}`);
    expect(unknown.status).toBe(410);
    expect(unknown.body.error.code).toBe('SETUP_CLOSED');
    const { rows } = await db.pool.query('select token_hash from intake_global.setup_tokens');
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token.slice(6));
  });

  it('refuses bad input naming the field, and leaves the token usable', async () => {
    const base = { token, tenantSlug: WORKSPACE, tenantName: 'Acme MSP', email: ADMIN.email, password: ADMIN.password };
    for (const [patch, field] of [
      [{ tenantSlug: 'Not A Slug' }, 'tenantSlug'],
      [{ tenantName: '' }, 'tenantName'],
      [{ email: 'nope' }, 'email'],
      [{ password: 'short' }, 'password'],
      [{ password: 'x'.repeat(1025) }, 'password'],
      [{ displayName: '' }, 'displayName'],
    ] as const) {
      const answer = await call('POST', '/auth/setup', { body: { ...base, ...patch } });
      expect(answer.status, JSON.stringify(patch)).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'VALIDATION', details: { field } });
    }
    const notJson = await fetch(`${server.url}/auth/setup`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(notJson.status).toBe(415);
    expect((await call('GET', `/auth/setup?token=${token}`)).status).toBe(200);
  });

  it('refuses an expired token', async () => {
    await db.pool.query(`update intake_global.setup_tokens set expires_at = now() - interval '1 second'`);
    expect((await call('GET', `/auth/setup?token=${token}`)).status).toBe(410);
    const answer = await call('POST', '/auth/setup', { body: { token, tenantSlug: WORKSPACE, tenantName: 'Acme MSP', email: ADMIN.email, password: ADMIN.password } });
    expect(answer.status).toBe(410);
    expect((await db.pool.query('select count(*)::int as n from psa.tenants')).rows[0].n).toBe(0);
    await db.pool.query(`update intake_global.setup_tokens set expires_at = now() + interval '1 hour'`);
  });

  it('creates the workspace and its admin and signs them in, once', async () => {
    // the same link submitted twice at once: one workspace, one 201
    const body = { token, tenantSlug: WORKSPACE, tenantName: 'Acme MSP', email: ADMIN.email, password: ADMIN.password, displayName: 'Ada Admin' };
    const both = await Promise.all([call('POST', '/auth/setup', { body }), call('POST', '/auth/setup', { body })]);
    expect(both.map((a) => a.status).sort()).toEqual([201, 410]);
    const answer = both.find((a) => a.status === 201)!;
    expect(answer.body).toMatchObject({
      signedIn: true,
      csrfToken: expect.any(String),
      user: { userId: expect.any(String), email: ADMIN.email, displayName: 'Ada Admin' },
      tenant: { tenant: expect.any(String), slug: WORKSPACE, name: 'Acme MSP', inboundWebhooksEnabled: true },
      permissions: [
        'inbound_webhook:create', 'inbound_webhook:delete', 'inbound_webhook:read', 'inbound_webhook:replay', 'inbound_webhook:update',
        'outbound_webhook:create', 'outbound_webhook:delete', 'outbound_webhook:read', 'outbound_webhook:replay', 'outbound_webhook:update',
      ],
    });
    const cookie = sessionCookie(answer).value;
    const me = await call('GET', '/auth/session', { cookie });
    expect(me.body).toMatchObject({ signedIn: true, tenant: { slug: WORKSPACE }, user: { email: ADMIN.email } });
    const { rows } = await db.pool.query(
      `select r.name from psa.user_roles ur join psa.roles r using (tenant, role_id) join psa.users u using (tenant, user_id) where u.email = $1`,
      [ADMIN.email],
    );
    expect(rows).toEqual([{ name: 'admin' }]);

    // the same token again, a new token, and the check: all closed now that a tenant exists
    const again = await call('POST', '/auth/setup', { body: { token, tenantSlug: 'other', tenantName: 'Other', email: 'x@example.com', password: ADMIN.password } });
    expect(again.status).toBe(410);
    expect(again.body.error.code).toBe('SETUP_CLOSED');
    expect(await newSetupToken()).toBeNull();
    expect((await call('GET', `/auth/setup?token=${token}`)).status).toBe(410);
    expect((await db.pool.query('select count(*)::int as n from psa.tenants')).rows[0].n).toBe(1);
    expect((await call('GET', '/auth/session')).body).toEqual({ signedIn: false, setupRequired: false });
  });

  it('stores passwords as scrypt hashes and sessions as digests', async () => {
    const { rows } = await db.pool.query('select password_hash from intake_private.user_passwords');
    expect(rows[0].password_hash).toMatch(/^scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    expect(JSON.stringify(rows)).not.toContain(ADMIN.password);
  });
});

describe('signed in', () => {
  let admin: { cookie: string; csrf: string; body: any };
  let viewer: { cookie: string; csrf: string; body: any };

  beforeAll(async () => {
    const client = await db.pool.connect();
    try {
      await createUser(client, WORKSPACE, { email: VIEWER.email, role: 'viewer', password: VIEWER.password });
    } finally {
      client.release();
    }
    admin = await signIn(ADMIN);
    viewer = await signIn(VIEWER);
  });

  it('sets the session cookie HttpOnly, SameSite=Lax, Path=/, Secure only behind HTTPS', async () => {
    const plain = await call('POST', '/auth/sign-in', { body: { workspace: WORKSPACE, ...ADMIN } });
    const { value, attributes } = sessionCookie(plain);
    expect(value).toMatch(/^is_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    const names = attributes.map((a) => a.split('=')[0]!.toLowerCase());
    expect(names).toEqual(expect.arrayContaining(['httponly', 'path', 'samesite', 'max-age']));
    expect(attributes).toContain('Path=/');
    expect(attributes).toContain('SameSite=Lax');
    expect(names).not.toContain('secure');
    const maxAge = Number(attributes.find((a) => a.startsWith('Max-Age='))!.slice(8));
    expect(maxAge).toBeGreaterThan(12 * 3600 - 60);
    expect(maxAge).toBeLessThanOrEqual(12 * 3600);

    // through the trusted proxy that says the client used https
    const tls = await call('POST', '/auth/sign-in', { body: { workspace: WORKSPACE, ...ADMIN }, headers: { 'x-forwarded-proto': 'https' } });
    expect(sessionCookie(tls).attributes).toContain('Secure');
    expect(plain.headers.get('cache-control')).toBe('no-store');
  });

  it('/auth/session answers the session with its CSRF token and expiries', async () => {
    const me = await call('GET', '/auth/session', { cookie: viewer.cookie });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      signedIn: true,
      csrfToken: viewer.csrf,
      user: { userId: expect.any(String), email: VIEWER.email, displayName: null },
      tenant: { tenant: expect.any(String), slug: WORKSPACE, name: 'Acme MSP', inboundWebhooksEnabled: true },
      permissions: ['inbound_webhook:read', 'outbound_webhook:read'],
      expiresAt: expect.any(String),
      idleExpiresAt: expect.any(String),
    });
    const idle = Date.parse(me.body.idleExpiresAt) - Date.now();
    expect(idle).toBeGreaterThan(59 * 60_000);
    expect(idle).toBeLessThanOrEqual(60 * 60_000);
    expect(Date.parse(me.body.expiresAt) - Date.now()).toBeGreaterThan(11.9 * 3600_000);
  });

  it('GraphQL and REST accept the cookie with its CSRF token, as the session user under RLS', async () => {
    const answer = await graphql(admin, '{ currentPermissions }');
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.data.currentPermissions).toContain('inbound_webhook:create');
    expect((await graphql(viewer, '{ currentPermissions }')).body.data.currentPermissions).toEqual(['inbound_webhook:read', 'outbound_webhook:read']);
    // a read needs no CSRF token (GET), a write does
    const list = await call('GET', '/api/v1/inbound-webhooks', { cookie: viewer.cookie });
    expect(list.status, list.text).toBe(200);
    const path = `/api/v1/inbound-webhooks/${randomBytes(16).toString('hex').replace(/(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-')}`;
    const del = await call('DELETE', path, { cookie: admin.cookie });
    expect(del.status).toBe(403);
    expect(del.body).toEqual({ error: { code: 'CSRF', message: expect.any(String) } });
    // with its CSRF token the write goes through to the handler (no such webhook: 404)
    const withToken = await call('DELETE', path, { cookie: admin.cookie, csrf: admin.csrf });
    expect(withToken.status, withToken.text).toBe(404);
    expect(withToken.body.error.code).toBe('NOT_FOUND');
    // and a REST write as the viewer is refused by the permission, not by CSRF
    const created = await call('POST', '/api/v1/inbound-webhooks', {
      cookie: viewer.cookie, csrf: viewer.csrf,
      body: { name: 'x', slug: 'x', auth: { auth_type: 'hmac_sha256' }, handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } } },
    });
    expect(created.status, created.text).toBe(403);
    expect(created.body.error.code).toBe('FORBIDDEN');
    // a bad cookie on REST: its own 401 shape
    const bad = await call('GET', '/api/v1/inbound-webhooks', { cookie: `is_${'0'.repeat(32)}_${'A'.repeat(43)}` });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a cookie-authenticated POST /graphql without, with a wrong or another session\'s CSRF token, or from another origin', async () => {
    for (const csrf of [undefined, 'wrong', viewer.csrf, admin.csrf.slice(0, -1)]) {
      const answer = await graphql({ cookie: admin.cookie, ...(csrf ? { csrf } : {}) }, '{ currentPermissions }');
      expect(answer.status, String(csrf)).toBe(403);
      expect(answer.body).toEqual({ error: { code: 'CSRF', message: expect.any(String) } });
    }
    const foreign = await graphql(admin, '{ currentPermissions }', {}, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    const own = await graphql(admin, '{ currentPermissions }', {}, { origin: server.url });
    expect(own.status).toBe(200);
    const forgedSignIn = await call('POST', '/auth/sign-in', { body: { workspace: WORKSPACE, ...ADMIN }, headers: { origin: 'https://evil.example' } });
    expect(forgedSignIn.status).toBe(403);
  });

  it('an API key needs no CSRF token, and counts rather than a cookie beside it', async () => {
    const { key } = await userWithKey(db.pool, WORKSPACE, 'viewer');
    const answer = await call('POST', '/graphql', { body: { query: '{ currentPermissions }' }, cookie: admin.cookie, headers: { authorization: `Bearer ${key}` } });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.data.currentPermissions).toEqual(['inbound_webhook:read', 'outbound_webhook:read']);
  });

  it("a viewer's session cannot create a webhook (FORBIDDEN)", async () => {
    const answer = await graphql(
      viewer,
      `mutation ($input: CreateInboundWebhookInput!) { createInboundWebhook(input: $input) { secret } }`,
      { input: { name: 'x', slug: 'x', auth: { auth_type: 'hmac_sha256' }, handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } } } },
    );
    expect(answer.body.errors?.[0]?.extensions?.code, answer.text).toBe('FORBIDDEN');
    expect((await db.pool.query('select count(*)::int as n from intake.inbound_webhooks')).rows[0].n).toBe(0);
  });

  it('sign-out needs the CSRF token, revokes the session and clears the cookie', async () => {
    const session = await signIn(ADMIN);
    expect((await call('POST', '/auth/sign-out', { cookie: session.cookie })).status).toBe(403);
    const out = await call('POST', '/auth/sign-out', { cookie: session.cookie, csrf: session.csrf });
    expect(out.status).toBe(204);
    const cleared = sessionCookie(out);
    expect(cleared.value).toBe('');
    expect(cleared.attributes.some((a) => /^Expires=Thu, 01 Jan 1970/.test(a))).toBe(true);
    const after = await graphql(session, '{ currentPermissions }');
    expect(after.status).toBe(401);
    expect(after.body.error).toBe('unauthorized');
    expect((await call('GET', '/auth/session', { cookie: session.cookie })).body).toEqual({ signedIn: false, setupRequired: false });
    // the other sessions of the same user live on
    expect((await graphql(admin, '{ currentPermissions }')).status).toBe(200);
  });

  it('ends a session left idle too long, and any session at its absolute expiry', async () => {
    const idle = await signIn(VIEWER);
    const absolute = await signIn(VIEWER);
    const touched = await signIn(VIEWER);
    const sessionOf = async (cookie: string) => {
      const me = await call('GET', '/auth/session', { cookie });
      return me.body;
    };
    const idOf = async (cookie: string) => {
      const { rows } = await db.pool.query(
        `select session_id from intake_private.sessions where token_hash = sha256(convert_to($1, 'UTF8'))`, [cookie]);
      return rows[0].session_id as string;
    };
    // idle: last seen 61 minutes ago (the default idle limit is 60)
    await db.pool.query(`update intake_private.sessions set last_seen_at = now() - interval '61 minutes' where session_id = $1`, [await idOf(idle.cookie)]);
    expect((await graphql(idle, '{ currentPermissions }')).status).toBe(401);
    // absolute: active a second ago, but past expires_at
    await db.pool.query(`update intake_private.sessions set expires_at = now() - interval '1 second' where session_id = $1`, [await idOf(absolute.cookie)]);
    expect((await graphql(absolute, '{ currentPermissions }')).status).toBe(401);
    const expired = await call('GET', '/auth/session', { cookie: absolute.cookie });
    expect(expired.body).toEqual({ signedIn: false, setupRequired: false });
    expect(sessionCookie(expired).value).toBe(''); // cleared
    // activity moves idle expiry on (last_seen_at is written at most once a minute)
    const id = await idOf(touched.cookie);
    await db.pool.query(`update intake_private.sessions set last_seen_at = now() - interval '59 minutes' where session_id = $1`, [id]);
    expect((await graphql(touched, '{ currentPermissions }')).status).toBe(200);
    const { rows } = await db.pool.query(`select extract(epoch from now() - last_seen_at) as ago from intake_private.sessions where session_id = $1`, [id]);
    expect(Number(rows[0].ago)).toBeLessThan(5);
    expect(Date.parse((await sessionOf(touched.cookie)).idleExpiresAt) - Date.now()).toBeGreaterThan(59 * 60_000);
  });

  it('an inactive user is signed out at once', async () => {
    const session = await signIn(VIEWER);
    await db.pool.query(`update psa.users set is_active = false where email = $1`, [VIEWER.email]);
    try {
      expect((await graphql(session, '{ currentPermissions }')).status).toBe(401);
    } finally {
      await db.pool.query(`update psa.users set is_active = true where email = $1`, [VIEWER.email]);
    }
  });
});

describe('refused sign-ins', () => {
  it('answers unknown workspace, unknown email, wrong password, no password and inactive user with the same bytes', async () => {
    const client = await db.pool.connect();
    try {
      await createUser(client, WORKSPACE, { email: 'nopassword@example.com', role: 'viewer' });
      await createUser(client, WORKSPACE, { email: 'gone@example.com', role: 'viewer', password: 'a perfectly fine password' });
    } finally {
      client.release();
    }
    await db.pool.query(`update psa.users set is_active = false where email = 'gone@example.com'`);
    const attempts = [
      { workspace: `no-${WORKSPACE}`, email: ADMIN.email, password: ADMIN.password },
      { workspace: WORKSPACE, email: 'nobody@example.com', password: ADMIN.password },
      { workspace: WORKSPACE, email: ADMIN.email, password: 'not the password' },
      { workspace: WORKSPACE, email: 'nopassword@example.com', password: ADMIN.password },
      { workspace: WORKSPACE, email: 'gone@example.com', password: 'a perfectly fine password' },
    ];
    const answers = [];
    for (const body of attempts) {
      const started = performance.now();
      const answer = await call('POST', '/auth/sign-in', { body, headers: { 'x-forwarded-for': myIp() } });
      answers.push({ ...answer, ms: performance.now() - started });
    }
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.text).toBe('{"error":{"code":"UNAUTHENTICATED","message":"Wrong workspace, email or password."}}');
      expect(answer.headers.get('content-type')).toBe(answers[0]!.headers.get('content-type'));
      expect(answer.headers.getSetCookie()).toEqual([]);
    }
    // each spent a password check (tens of ms), unknown ones included
    expect(Math.min(...answers.map((a) => a.ms))).toBeGreaterThan(20);
  });

  it('limits attempts per address: 429 with Retry-After, even with the right password', async () => {
    const who = { email: 'limited@example.com', password: 'the right password' };
    const client = await db.pool.connect();
    try {
      await createUser(client, WORKSPACE, { ...who, role: 'viewer' });
    } finally {
      client.release();
    }
    const ip = myIp();
    for (let i = 0; i < 10; i++) {
      const answer = await call('POST', '/auth/sign-in', { body: { workspace: WORKSPACE, email: who.email.toUpperCase(), password: `wrong ${i}` }, headers: { 'x-forwarded-for': ip } });
      expect(answer.status).toBe(401);
    }
    // another IP, same address (the email in any case): still limited, the address counts on its own
    const limited = await call('POST', '/auth/sign-in', { body: { workspace: WORKSPACE, ...who }, headers: { 'x-forwarded-for': myIp() } });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(limited.headers.getSetCookie()).toEqual([]);
  });

  it('limits attempts per IP across addresses', async () => {
    const ip = myIp();
    for (let i = 0; i < 20; i++) {
      const answer = await call('POST', '/auth/sign-in', { body: { workspace: WORKSPACE, email: `guess-${i}@example.com`, password: 'guessing guessing' }, headers: { 'x-forwarded-for': ip } });
      expect(answer.status).toBe(401);
    }
    const limited = await call('POST', '/auth/sign-in', { body: { workspace: WORKSPACE, ...ADMIN }, headers: { 'x-forwarded-for': ip } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // another address from another IP is unaffected
    expect((await call('POST', '/auth/sign-in', { body: { workspace: WORKSPACE, ...ADMIN }, headers: { 'x-forwarded-for': myIp() } })).status).toBe(200);
  });

  it('refuses a sign-in body that is not JSON or lacks a field (400/415)', async () => {
    const missing = await call('POST', '/auth/sign-in', { body: { workspace: WORKSPACE, email: ADMIN.email } });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: 'VALIDATION', details: { field: 'password' } });
    const form = await fetch(`${server.url}/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' });
    expect(form.status).toBe(415);
    expect((await form.json()).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const broken = await fetch(`${server.url}/auth/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"workspace":' });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ error: { code: 'VALIDATION', details: { field: 'body' } } });
  });
});
