// Who is asking: an API key (`Authorization: Bearer <key>`, or `X-API-Key` for REST) or a browser
// session (the `intake_session` cookie api/session.ts sets). Either is hashed (core/crypto.ts
// hashToken) and resolved by a security-definer function (intake_private.authenticate_api_key /
// authenticate_session) to the same claims, so this layer never reads the key or session
// tables and GraphQL and REST run as intake_user under RLS alike. A refusal is the same 401 JSON
// whether the credential is missing, malformed, unknown, revoked, expired or its user inactive.
// A cookie is sent by the browser on its own, so a state-changing request that authenticates by
// it must also prove it came from our page: an `X-CSRF-Token` derived from the session, and no
// foreign `Origin` (403 CSRF otherwise). A key is never sent by the browser on its own, so
// requests with one need neither.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { BlockList } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type pg from 'pg';
import { parseApiKey } from '../core/access.ts';
import { errorMessage, log } from '../core/log.ts';
import { parseSessionToken } from '../core/sessions.ts';
import { ipInList, normalizeIp } from '../receiver/clientIp.ts';

/**
 * Who is asking, as resolved from their API key or session: never from anything else the
 * client sends. Exactly one of apiKeyId and sessionId is set.
 */
export interface Claims {
  tenant: string;
  tenantSlug: string;
  userId: string;
  email: string;
  apiKeyId?: string;
  sessionId?: string;
  /** resource:action strings, e.g. inbound_webhook:read (informational; SQL checks again) */
  permissions: string[];
}

/** The bearer token of an Authorization header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match ? match[1]! : null;
}

/** Resolves an API key to its claims; null when it does not authenticate. */
export async function authenticateApiKey(db: pg.Pool | pg.ClientBase, key: string): Promise<Claims | null> {
  const parsed = parseApiKey(key);
  if (!parsed) return null;
  const { rows } = await db.query(
    'select tenant, tenant_slug, user_id, email, api_key_id, permissions from intake_private.authenticate_api_key($1, $2)',
    [parsed.tenant, parsed.hash],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    tenant: row.tenant,
    tenantSlug: row.tenant_slug,
    userId: row.user_id,
    email: row.email,
    apiKeyId: row.api_key_id,
    permissions: row.permissions,
  };
}

/** A session's claims and when it ends (absolute, and if left idle from now). */
export interface SessionInfo {
  claims: Claims;
  expiresAt: Date;
  idleExpiresAt: Date;
}

/** Resolves a session token to its claims; null when it does not authenticate (unknown, revoked, expired). */
export async function authenticateSession(db: pg.Pool | pg.ClientBase, token: string): Promise<SessionInfo | null> {
  const parsed = parseSessionToken(token);
  if (!parsed) return null;
  const { rows } = await db.query(
    `select tenant, tenant_slug, user_id, email, session_id, permissions, expires_at, idle_expires_at
       from intake_private.authenticate_session($1, $2)`,
    [parsed.tenant, parsed.hash],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    claims: {
      tenant: row.tenant,
      tenantSlug: row.tenant_slug,
      userId: row.user_id,
      email: row.email,
      sessionId: row.session_id,
      permissions: row.permissions,
    },
    expiresAt: row.expires_at,
    idleExpiresAt: row.idle_expires_at,
  };
}

export const SESSION_COOKIE = 'intake_session';
export const CSRF_HEADER = 'x-csrf-token';

/** What cookie authentication needs from the runtime. */
export interface SessionSettings {
  /** keys the CSRF tokens (derived from the master key: csrfKeyFrom) */
  csrfKey: Buffer;
  publicUrl: string;
  /** whose X-Forwarded-Proto is believed */
  trustedProxies: BlockList | null;
}

/** The CSRF key: a subkey of the master key, so it survives restarts and is the same on every process. */
export function csrfKeyFrom(masterKey: Buffer): Buffer {
  return createHmac('sha256', masterKey).update('intake:csrf-key:v1').digest();
}

/** The CSRF token of a session: an HMAC of its token, so it needs no storage and dies with it. */
export function csrfTokenFor(csrfKey: Buffer, sessionToken: string): string {
  return createHmac('sha256', csrfKey).update(sessionToken, 'utf8').digest('base64url');
}

function csrfTokenMatches(csrfKey: Buffer, sessionToken: string, given: string | undefined): boolean {
  if (!given) return false;
  const expected = Buffer.from(csrfTokenFor(csrfKey, sessionToken), 'utf8');
  const actual = Buffer.from(given, 'utf8');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** The value of the session cookie a request carries, or null. */
export function sessionTokenOf(req: IncomingMessage): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    if (part.slice(0, at).trim() === SESSION_COOKIE) {
      const value = part.slice(at + 1).trim();
      return value === '' ? null : value;
    }
  }
  return null;
}

/** https when the request arrived over TLS, or through a trusted proxy that says it did. */
export function requestProtocol(req: IncomingMessage, trustedProxies: BlockList | null): 'http' | 'https' {
  if ((req.socket as TLSSocket).encrypted) return 'https';
  const forwarded = req.headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  if (proto === 'https' && trustedProxies && ipInList(trustedProxies, normalizeIp(req.socket.remoteAddress ?? ''))) return 'https';
  return 'http';
}

/** Whether the session cookie must be `Secure`: PUBLIC_URL is https, or this request came over https. */
export function cookieSecure(req: IncomingMessage, settings: SessionSettings): boolean {
  return settings.publicUrl.startsWith('https:') || requestProtocol(req, settings.trustedProxies) === 'https';
}

/**
 * False when the request carries an `Origin` that is neither PUBLIC_URL's nor the one the
 * request itself was sent to (a page on another site). No Origin (not a browser, or an old one
 * on a same-origin request) passes: the CSRF token still has to match.
 */
export function originAllowed(req: IncomingMessage, settings: SessionSettings): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (origin === new URL(settings.publicUrl).origin) return true;
  const host = req.headers.host;
  return host !== undefined && origin === `${requestProtocol(req, settings.trustedProxies)}://${host}`;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const CSRF_BODY = {
  error: {
    code: 'CSRF',
    message: 'this request needs the X-CSRF-Token header from GET /auth/session, and must come from Intake\'s own pages',
  },
} as const;

/**
 * Null when a cookie-authenticated request may go on; otherwise it must be refused with 403
 * CSRF_BODY: a state-changing method without the session's CSRF token or from another origin.
 */
export function csrfRefusal(req: IncomingMessage, settings: SessionSettings, sessionToken: string): 'csrf' | null {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return null;
  if (!originAllowed(req, settings)) return 'csrf';
  const header = req.headers[CSRF_HEADER];
  return csrfTokenMatches(settings.csrfKey, sessionToken, Array.isArray(header) ? header[0] : header) ? null : 'csrf';
}

const claimsByRequest = new WeakMap<IncomingMessage, Claims>();

/** The claims the middleware attached to this request, if it authenticated. */
export function claimsOf(req: IncomingMessage | undefined): Claims | undefined {
  return req ? claimsByRequest.get(req) : undefined;
}

export const UNAUTHORIZED_BODY = {
  error: 'unauthorized',
  message: 'sign in, or send an API key as "Authorization: Bearer <key>" (create one with: intake api-key create)',
} as const;

/** How a consumer of requireAuth answers refusals; GraphQL keeps the defaults, REST has its own shape. */
export interface RequireAuthOptions {
  /** also accept the key as `X-API-Key: <key>` (REST) */
  acceptApiKeyHeader?: boolean;
  /** accept the session cookie too (with CSRF rules); without it only API keys authenticate */
  sessions?: SessionSettings;
  /** the 401 answer (default: UNAUTHORIZED_BODY) */
  refuse?: (res: Response) => void;
  /** the 503 answer when the credential could not be checked */
  unavailable?: (res: Response) => void;
}

/** The API key a request carries: `Authorization: Bearer <key>`, or `X-API-Key` when accepted. */
export function apiKeyOf(req: Request, acceptApiKeyHeader = false): string | null {
  const bearer = bearerToken(req.headers.authorization);
  if (bearer) return bearer;
  if (!acceptApiKeyHeader) return null;
  const header = req.headers['x-api-key'];
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^\S+$/.test(value.trim()) ? value.trim() : null;
}

/**
 * Express middleware: 401 JSON unless the request carries a valid API key or (with `sessions`)
 * session cookie; 403 CSRF for a cookie-authenticated state-changing request without its CSRF
 * token or from another origin. A key, when present, is what counts, even beside a cookie.
 */
export function requireAuth(pool: pg.Pool, options: RequireAuthOptions = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const key = apiKeyOf(req, options.acceptApiKeyHeader);
    const sessionToken = key === null && options.sessions ? sessionTokenOf(req) : null;
    const refuse = () => {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="intake"');
      if (options.refuse) options.refuse(res);
      else res.json(UNAUTHORIZED_BODY);
    };
    if (key === null && sessionToken === null) return refuse();
    const lookup: Promise<Claims | null> = key !== null
      ? authenticateApiKey(pool, key)
      : authenticateSession(pool, sessionToken!).then((session) => session?.claims ?? null);
    lookup.then(
      (claims) => {
        if (!claims) return refuse();
        if (sessionToken !== null && csrfRefusal(req, options.sessions!, sessionToken)) {
          res.status(403).json(CSRF_BODY);
          return;
        }
        claimsByRequest.set(req, claims);
        next();
      },
      (error) => {
        log.error(key !== null ? 'api key lookup failed' : 'session lookup failed', { error: errorMessage(error) });
        res.status(503).set('Retry-After', '1');
        if (options.unavailable) options.unavailable(res);
        else res.json({ error: 'unavailable', message: 'could not check the credentials; retry' });
      },
    );
  };
}
