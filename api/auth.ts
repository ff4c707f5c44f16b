// Authorization: Bearer <api key> → who is asking. The key is hashed (core/crypto.ts hashToken)
// and looked up by intake_private.authenticate_api_key(), a security-definer function, so
// this layer never reads the key tables. GraphQL uses it now and REST will: both answer 401
// with the same JSON when the key is missing, malformed, unknown, revoked or its user inactive.
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type pg from 'pg';
import { parseApiKey } from '../core/access.ts';
import { errorMessage, log } from '../core/log.ts';

/** Who is asking, as resolved from their API key: never from anything else the client sends. */
export interface Claims {
  tenant: string;
  tenantSlug: string;
  userId: string;
  email: string;
  apiKeyId: string;
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

const claimsByRequest = new WeakMap<IncomingMessage, Claims>();

/** The claims the middleware attached to this request, if it authenticated. */
export function claimsOf(req: IncomingMessage | undefined): Claims | undefined {
  return req ? claimsByRequest.get(req) : undefined;
}

export const UNAUTHORIZED_BODY = {
  error: 'unauthorized',
  message: 'send an API key as "Authorization: Bearer <key>" (create one with: intake api-key create)',
} as const;

/** How a consumer of requireApiKey answers refusals; GraphQL keeps the defaults, REST has its own shape. */
export interface RequireApiKeyOptions {
  /** also accept the key as `X-API-Key: <key>` (REST) */
  acceptApiKeyHeader?: boolean;
  /** the 401 answer (default: UNAUTHORIZED_BODY) */
  refuse?: (res: Response) => void;
  /** the 503 answer when the key could not be checked */
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

/** Express middleware: 401 JSON unless the request carries a valid API key. */
export function requireApiKey(pool: pg.Pool, options: RequireApiKeyOptions = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const key = apiKeyOf(req, options.acceptApiKeyHeader);
    const refuse = () => {
      res.status(401).set('WWW-Authenticate', 'Bearer realm="intake"');
      if (options.refuse) options.refuse(res);
      else res.json(UNAUTHORIZED_BODY);
    };
    if (!key) return refuse();
    authenticateApiKey(pool, key).then(
      (claims) => {
        if (!claims) return refuse();
        claimsByRequest.set(req, claims);
        next();
      },
      (error) => {
        log.error('api key lookup failed', { error: errorMessage(error) });
        res.status(503).set('Retry-After', '1');
        if (options.unavailable) options.unavailable(res);
        else res.json({ error: 'unavailable', message: 'could not check the API key; retry' });
      },
    );
  };
}
