// Signing in to the web UI (CONTRACT.md "Sign-in and sessions"): GET /auth/session, GET and
// POST /auth/setup, POST /auth/sign-in, POST /auth/sign-out. A session is a random token in an
// HttpOnly, SameSite=Lax cookie (Secure behind HTTPS), stored as a SHA-256 digest
// (core/sessions.ts) and resolved by api/auth.ts to the same claims as an API key. Every answer
// is JSON with `Cache-Control: no-store`; errors are {"error":{"code","message","details"?}}.
// Passwords, tokens and emails are never logged.
import { createHash } from 'node:crypto';
import type { BlockList } from 'node:net';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type pg from 'pg';
import { insertUser, parseUserInput } from '../core/access.ts';
import { UserError } from '../core/errors.ts';
import { errorMessage, log } from '../core/log.ts';
import { passwordProblem, spendPasswordCheck, verifyPassword } from '../core/passwords.ts';
import {
  consumeSetupToken, createSession, revokeSession, setPassword, setupRequired, setupTokenValid, signInCandidate,
  type SessionLifetime,
} from '../core/sessions.ts';
import { createTenant } from '../core/tenants.ts';
import { formatZodError, tenantCreateSchema } from '../core/webhookConfig.ts';
import type { RateLimiter } from '../receiver/rateLimit.ts';
import { resolveClientIp } from '../receiver/clientIp.ts';
import {
  authenticateSession, cookieSecure, CSRF_BODY, csrfRefusal, csrfTokenFor, originAllowed, SESSION_COOKIE, sessionTokenOf,
  type SessionInfo, type SessionSettings,
} from './auth.ts';

export interface SessionRouteOptions {
  /** connects as the database owner: sessions and passwords have no grant to any other role */
  pool: pg.Pool;
  settings: SessionSettings;
  lifetime: SessionLifetime;
  /** the store the receiver's per-webhook limits use (receiver/rateLimit.ts), keys namespaced */
  rateLimiter: RateLimiter;
  /** sign-in attempts per minute per workspace+email, and per client IP */
  limitPerAddress: number;
  limitPerIp: number;
  trustedProxies: BlockList | null;
  /** INTAKE_INBOUND_WEBHOOKS_ENABLED: a tenant's flag when it has no override */
  inboundWebhooksEnabledDefault: boolean;
}

/** The one answer to every failed sign-in, whatever failed: byte-identical by construction. */
export const SIGN_IN_REFUSED_BODY = JSON.stringify({
  error: { code: 'UNAUTHENTICATED', message: 'Wrong workspace, email or password.' },
});

const SETUP_CLOSED = {
  error: {
    code: 'SETUP_CLOSED',
    message: 'This setup link no longer works: it was used, it expired, a newer one was printed, or the workspace already exists. Restart Intake on an empty database for a new link, or sign in.',
  },
};

type Field = 'tenantSlug' | 'tenantName' | 'email' | 'password' | 'displayName' | 'workspace' | 'token' | 'body';

function fail(res: Response, status: number, code: string, message: string, field?: Field): void {
  res.status(status).json({ error: { code, message, ...(field ? { details: { field } } : {}) } });
}

class BadInput extends Error {
  readonly field: Field;
  constructor(field: Field, message: string) {
    super(`${field}: ${message}`);
    this.field = field;
  }
}

function stringField(body: Record<string, unknown>, field: Field): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') throw new BadInput(field, 'is required');
  return value;
}

export function sessionRoutes(options: SessionRouteOptions): Router {
  const { pool, settings } = options;
  const router = Router();

  router.use('/auth', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  // POST bodies are JSON only (415 otherwise), small, and parsed here.
  const json = [
    (req: Request, res: Response, next: NextFunction) => {
      if (!req.is('application/json')) return fail(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as Content-Type: application/json');
      next();
    },
    express.json({ limit: '16kb' }),
    (req: Request, res: Response, next: NextFunction) => {
      if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
        return fail(res, 400, 'VALIDATION', 'body: must be a JSON object', 'body');
      }
      next();
    },
  ];

  async function sessionBody(session: SessionInfo, token: string) {
    const { claims } = session;
    const { rows } = await pool.query(
      `select u.display_name, t.name, coalesce(t.inbound_webhooks_enabled, $3) as inbound_webhooks_enabled
         from psa.users u join psa.tenants t on t.tenant = u.tenant
        where u.tenant = $1 and u.user_id = $2`,
      [claims.tenant, claims.userId, options.inboundWebhooksEnabledDefault],
    );
    const row = rows[0] ?? {};
    return {
      signedIn: true,
      csrfToken: csrfTokenFor(settings.csrfKey, token),
      user: { userId: claims.userId, email: claims.email, displayName: row.display_name ?? null },
      tenant: { tenant: claims.tenant, slug: claims.tenantSlug, name: row.name, inboundWebhooksEnabled: row.inbound_webhooks_enabled === true },
      permissions: claims.permissions,
      expiresAt: session.expiresAt.toISOString(),
      idleExpiresAt: session.idleExpiresAt.toISOString(),
    };
  }

  const cookieOptions = (req: Request) => ({ httpOnly: true, sameSite: 'lax' as const, path: '/', secure: cookieSecure(req, settings) });

  /** Sets the cookie for a session just created and answers with its body. */
  async function signedIn(req: Request, res: Response, status: number, token: string): Promise<void> {
    const session = await authenticateSession(pool, token);
    if (!session) throw new Error('a session just created did not authenticate');
    res.cookie(SESSION_COOKIE, token, { ...cookieOptions(req), maxAge: Math.max(0, session.expiresAt.getTime() - Date.now()) });
    res.status(status).json(await sessionBody(session, token));
  }

  router.get('/auth/session', async (req, res) => {
    const token = sessionTokenOf(req);
    const session = token ? await authenticateSession(pool, token) : null;
    if (session && token) {
      res.json(await sessionBody(session, token));
      return;
    }
    if (token) res.clearCookie(SESSION_COOKIE, cookieOptions(req));
    res.json({ signedIn: false, setupRequired: await setupRequired(pool) });
  });

  router.get('/auth/setup', async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    if (await setupTokenValid(pool, token)) res.json({ valid: true });
    else res.status(410).json(SETUP_CLOSED);
  });

  router.post('/auth/setup', ...json, async (req, res) => {
    if (!originAllowed(req, settings)) return void res.status(403).json(CSRF_BODY);
    const body = req.body as Record<string, unknown>;
    const token = typeof body.token === 'string' ? body.token : '';
    if (!(await setupTokenValid(pool, token))) return void res.status(410).json(SETUP_CLOSED);

    const tenant = tenantCreateSchema.safeParse({ slug: body.tenantSlug, name: body.tenantName });
    if (!tenant.success) {
      const field = tenant.error.issues[0]?.path[0] === 'name' ? 'tenantName' : 'tenantSlug';
      throw new BadInput(field, formatZodError(tenant.error).replace(/^(slug|name): /, ''));
    }
    let user;
    try {
      user = parseUserInput({ email: body.email, role: 'admin', ...(body.displayName !== undefined && body.displayName !== null ? { display_name: body.displayName } : {}) });
    } catch (error) {
      const field = (error as UserError).details?.field === 'display_name' ? 'displayName' : 'email';
      throw new BadInput(field, (error as Error).message.replace(/^\w+: /, ''));
    }
    const problem = passwordProblem(body.password);
    if (problem) throw new BadInput('password', problem);
    const password = body.password as string;

    const client = await pool.connect();
    let sessionToken: string;
    try {
      await client.query('begin');
      if (!(await consumeSetupToken(client, token))) {
        await client.query('rollback');
        return void res.status(410).json(SETUP_CLOSED);
      }
      const created = await createTenant(client, { slug: tenant.data.slug, name: tenant.data.name });
      const admin = await insertUser(client, created.tenant_id, created.slug, user);
      await setPassword(client, created.tenant_id, admin.user_id, password);
      sessionToken = (await createSession(client, created.tenant_id, admin.user_id, options.lifetime)).token;
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
    log.info('workspace set up', { tenant: tenant.data.slug });
    await signedIn(req, res, 201, sessionToken);
  });

  router.post('/auth/sign-in', ...json, async (req, res) => {
    if (!originAllowed(req, settings)) return void res.status(403).json(CSRF_BODY);
    const body = req.body as Record<string, unknown>;
    const workspace = stringField(body, 'workspace').trim().toLowerCase();
    const email = stringField(body, 'email').trim();
    const password = stringField(body, 'password');

    // Counted before any work, so a flood costs no password checks. The IP first: a flood from
    // one address that is already refused does not also use up its victim's per-address count.
    // The address is hashed so that emails are not kept in Redis.
    const ip = resolveClientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'] as string | undefined, options.trustedProxies);
    const address = createHash('sha256').update(`${workspace}\n${email.toLowerCase()}`).digest('base64url');
    let verdict = await options.rateLimiter.hit(`sign-in:ip:${ip}`, options.limitPerIp);
    if (!verdict.limited) verdict = await options.rateLimiter.hit(`sign-in:address:${address}`, options.limitPerAddress);
    if (verdict.limited) {
      res.set('Retry-After', String(verdict.retryAfterSeconds));
      return fail(res, 429, 'RATE_LIMITED', `Too many sign-in attempts. Try again in ${verdict.retryAfterSeconds} seconds.`);
    }

    const candidate = await signInCandidate(pool, workspace, email);
    const ok = candidate && Buffer.byteLength(password) <= 1024
      ? await verifyPassword(password, candidate.passwordHash)
      : await spendPasswordCheck(password);
    if (!candidate || !ok) {
      res.status(401).type('application/json').send(SIGN_IN_REFUSED_BODY);
      return;
    }
    const { token } = await createSession(pool, candidate.tenant, candidate.userId, options.lifetime);
    await signedIn(req, res, 200, token);
  });

  router.post('/auth/sign-out', async (req, res) => {
    const token = sessionTokenOf(req);
    if (token) {
      if (csrfRefusal(req, settings, token)) return void res.status(403).json(CSRF_BODY);
      await revokeSession(pool, token);
    }
    res.clearCookie(SESSION_COOKIE, cookieOptions(req));
    res.status(204).end();
  });

  router.use('/auth', (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    const e = error as { type?: string; status?: number };
    if (error instanceof BadInput) return fail(res, 400, 'VALIDATION', error.message, error.field);
    if (e?.type === 'entity.parse.failed') return fail(res, 400, 'VALIDATION', 'body: not valid JSON', 'body');
    if (e?.type === 'entity.too.large') return fail(res, 413, 'VALIDATION', 'body: too large', 'body');
    if (error instanceof UserError && error.code === 'validation') return fail(res, 400, 'VALIDATION', error.message);
    log.error('auth: request failed', { method: req.method, path: req.path, error: errorMessage(error) });
    fail(res, 500, 'INTERNAL', 'internal error');
  });

  return router;
}
