// Browser sessions, passwords at rest and one-time setup tokens (migration 000008). A session
// token is `is_<tenant uuid, 32 hex>_<43 characters of base64url randomness>`, like an API key
// (core/access.ts): the tenant part lets the lookup filter by tenant first, the random part is
// the secret, and only the SHA-256 of the whole token is stored. A setup token belongs to no
// tenant (it exists before the first one) and is `setup_<43 characters>`, stored the same way.
// Everything here runs as the database owner: intake_private and intake_global have no grants.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { hashToken } from './crypto.ts';
import { hashPassword } from './passwords.ts';

const SESSION_PATTERN = /^is_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
const SETUP_PATTERN = /^setup_[A-Za-z0-9_-]{43}$/;

export interface ParsedSessionToken {
  tenant: string;
  hash: Buffer;
}

/** The tenant and digest of a well-formed session token; null for anything else (never throws). */
export function parseSessionToken(token: string): ParsedSessionToken | null {
  const match = SESSION_PATTERN.exec(token);
  if (!match) return null;
  const hex = match[1]!;
  const tenant = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { tenant, hash: hashToken(token) };
}

export interface SessionLifetime {
  idleMinutes: number;
  maxHours: number;
}

export interface CreatedSession {
  token: string;
  sessionId: string;
  expiresAt: Date;
}

/**
 * A new session for the user; the token is returned here only (it goes into the cookie). The
 * user's revoked and expired sessions are deleted on the way, so their rows do not pile up.
 */
export async function createSession(db: pg.ClientBase | pg.Pool, tenant: string, userId: string, lifetime: SessionLifetime): Promise<CreatedSession> {
  const token = `is_${tenant.replaceAll('-', '')}_${randomBytes(32).toString('base64url')}`;
  await db.query(
    `delete from intake_private.sessions
      where tenant = $1 and user_id = $2
        and (revoked_at is not null or expires_at <= now() or last_seen_at + make_interval(secs => idle_timeout_seconds) <= now())`,
    [tenant, userId],
  );
  const { rows } = await db.query(
    `insert into intake_private.sessions (tenant, user_id, token_hash, idle_timeout_seconds, expires_at)
     values ($1, $2, $3, $4, now() + make_interval(hours => $5))
     returning session_id, expires_at`,
    [tenant, userId, hashToken(token), lifetime.idleMinutes * 60, lifetime.maxHours],
  );
  return { token, sessionId: rows[0].session_id, expiresAt: rows[0].expires_at };
}

/** Revokes the session a token names (sign-out). Unknown or already revoked: nothing to do. */
export async function revokeSession(db: pg.ClientBase | pg.Pool, token: string): Promise<void> {
  const parsed = parseSessionToken(token);
  if (!parsed) return;
  await db.query(
    'update intake_private.sessions set revoked_at = now() where tenant = $1 and token_hash = $2 and revoked_at is null',
    [parsed.tenant, parsed.hash],
  );
}

/** Revokes every session of a user (after a password change). Returns how many were live. */
export async function revokeUserSessions(db: pg.ClientBase | pg.Pool, tenant: string, userId: string): Promise<number> {
  const { rowCount } = await db.query(
    'update intake_private.sessions set revoked_at = now() where tenant = $1 and user_id = $2 and revoked_at is null',
    [tenant, userId],
  );
  return rowCount ?? 0;
}

/** Sets (or replaces) a user's password. Throws a validation UserError naming the rule it breaks. */
export async function setPassword(db: pg.ClientBase | pg.Pool, tenant: string, userId: string, password: string): Promise<void> {
  const hash = await hashPassword(password);
  await db.query(
    `insert into intake_private.user_passwords (tenant, user_id, password_hash) values ($1, $2, $3)
     on conflict (tenant, user_id) do update set password_hash = excluded.password_hash, updated_at = now()`,
    [tenant, userId, hash],
  );
}

export interface SignInCandidate {
  tenant: string;
  userId: string;
  passwordHash: string;
}

/**
 * The active user a workspace slug and email name, with their password hash; null when the
 * workspace or user is unknown, the user inactive or without a password. One query, so the time
 * taken does not tell those cases apart either.
 */
export async function signInCandidate(db: pg.ClientBase | pg.Pool, workspace: string, email: string): Promise<SignInCandidate | null> {
  const { rows } = await db.query(
    `select u.tenant, u.user_id, p.password_hash
       from psa.tenants t
       join psa.users u on u.tenant = t.tenant and lower(u.email) = lower($2) and u.is_active
       join intake_private.user_passwords p on p.tenant = u.tenant and p.user_id = u.user_id
      where t.slug = $1`,
    [workspace, email],
  );
  const row = rows[0];
  return row ? { tenant: row.tenant, userId: row.user_id, passwordHash: row.password_hash } : null;
}

/** Whether the database has no tenant at all: then the first one is made through a setup link. */
export async function setupRequired(db: pg.ClientBase | pg.Pool): Promise<boolean> {
  const { rows } = await db.query('select not exists (select 1 from psa.tenants) as required');
  return rows[0].required === true;
}

/**
 * A new setup token, valid for `hours`; every earlier unused one stops working. Returns the token
 * (to be printed once, never logged), or null when a tenant exists and setup is closed.
 */
export async function createSetupToken(db: pg.ClientBase, hours: number): Promise<string | null> {
  const token = `setup_${randomBytes(32).toString('base64url')}`;
  await db.query('begin');
  try {
    await db.query('select pg_advisory_xact_lock($1)', [SETUP_LOCK]);
    if (!(await setupRequired(db))) {
      await db.query('rollback');
      return null;
    }
    await db.query('delete from intake_global.setup_tokens where used_at is null');
    await db.query(
      'insert into intake_global.setup_tokens (token_hash, expires_at) values ($1, now() + make_interval(hours => $2))',
      [hashToken(token), hours],
    );
    await db.query('commit');
    return token;
  } catch (error) {
    await db.query('rollback').catch(() => {});
    throw error;
  }
}

/** Any constant works; it names "someone is creating or using a setup token" for pg_advisory_xact_lock. */
export const SETUP_LOCK = 7_215_004_212;

/** Whether a setup token is usable now: well-formed, known, unused, unexpired, and no tenant exists yet. */
export async function setupTokenValid(db: pg.ClientBase | pg.Pool, token: string): Promise<boolean> {
  if (!SETUP_PATTERN.test(token)) return false;
  const { rows } = await db.query(
    `select exists (select 1 from intake_global.setup_tokens
                     where token_hash = $1 and used_at is null and expires_at > now())
            and not exists (select 1 from psa.tenants) as valid`,
    [hashToken(token)],
  );
  return rows[0].valid === true;
}

/**
 * Inside the caller's transaction: takes the setup lock and marks the token used. False (nothing
 * changed) when the token is not usable, so the caller rolls back and answers SETUP_CLOSED.
 */
export async function consumeSetupToken(db: pg.ClientBase, token: string): Promise<boolean> {
  if (!SETUP_PATTERN.test(token)) return false;
  await db.query('select pg_advisory_xact_lock($1)', [SETUP_LOCK]);
  if (!(await setupRequired(db))) return false;
  const { rowCount } = await db.query(
    'update intake_global.setup_tokens set used_at = now() where token_hash = $1 and used_at is null and expires_at > now()',
    [hashToken(token)],
  );
  return rowCount === 1;
}
