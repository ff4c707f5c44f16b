// Who may use the management APIs: PSA users with roles, and API keys that act as a user.
// An API key is `ik_<tenant uuid, 32 hex>_<43 characters of base64url randomness>`: the tenant
// part lets the lookup filter by tenant first (design rule 4), the random part is the secret.
// Only the SHA-256 of the whole key is stored; the key is shown once, at creation.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { z } from 'zod';
import { hashToken } from './crypto.ts';
import { UserError } from './errors.ts';
import { passwordProblem } from './passwords.ts';
import { revokeUserSessions, setPassword } from './sessions.ts';
import { tenantIdForSlug } from './tenants.ts';
import { formatZodError } from './webhookConfig.ts';

/** The roles every tenant is seeded with (intake.create_tenant and migration 000004). */
export const SEEDED_ROLES = ['admin', 'viewer'] as const;

const KEY_PATTERN = /^ik_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

export interface ParsedApiKey {
  tenant: string;
  hash: Buffer;
}

/** The tenant and digest of a well-formed key; null for anything else (never throws). */
export function parseApiKey(key: string): ParsedApiKey | null {
  const match = KEY_PATTERN.exec(key);
  if (!match) return null;
  const hex = match[1]!;
  const tenant = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { tenant, hash: hashToken(key) };
}

export function generateApiKey(tenant: string): { key: string; prefix: string } {
  const secret = randomBytes(32).toString('base64url');
  const key = `ik_${tenant.replaceAll('-', '')}_${secret}`;
  return { key, prefix: `ik_…${secret.slice(0, 8)}` };
}

const userCreateSchema = z.object({
  email: z.string().trim().regex(/^[^@\s]+@[^@\s]+$/, 'must be an email address').max(320),
  role: z.string().trim().min(1, 'must not be empty'),
  display_name: z.string().trim().min(1).max(200).optional(),
});

/**
 * Runs as the database owner (CLI). Creates a user with one role of the tenant and, when given,
 * a password (so they can sign in to the web UI), in one transaction.
 */
export async function createUser(
  db: pg.ClientBase,
  tenantSlug: string,
  raw: { email?: unknown; role?: unknown; display_name?: unknown; password?: string },
): Promise<{ user_id: string; email: string; role: string }> {
  const parsed = parseUserInput(raw);
  if (raw.password !== undefined) checkPassword(raw.password);
  const tenant = await tenantIdForSlug(db, tenantSlug);
  await db.query('begin');
  try {
    const created = await insertUser(db, tenant, tenantSlug, parsed);
    if (raw.password !== undefined) await setPassword(db, tenant, created.user_id, raw.password);
    await db.query('commit');
    return created;
  } catch (error) {
    await db.query('rollback').catch(() => {});
    throw error;
  }
}

export type UserInput = z.infer<typeof userCreateSchema>;

/** The checked form of a new user's email, role and display name (a validation UserError otherwise). */
export function parseUserInput(raw: { email?: unknown; role?: unknown; display_name?: unknown }): UserInput {
  const parsed = userCreateSchema.safeParse(raw);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path[0];
    throw new UserError('validation', formatZodError(parsed.error), typeof field === 'string' ? { field } : undefined);
  }
  return parsed.data;
}

function checkPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new UserError('validation', `password: ${problem}`, { field: 'password' });
}

/** Inside the caller's transaction: inserts the user and gives them the role (by name). */
export async function insertUser(
  db: pg.ClientBase,
  tenant: string,
  tenantSlug: string,
  { email, role, display_name }: UserInput,
): Promise<{ user_id: string; email: string; role: string }> {
  const { rows: roles } = await db.query('select role_id from psa.roles where tenant = $1 and name = $2', [tenant, role]);
  if (!roles[0]) {
    const { rows: names } = await db.query('select name from psa.roles where tenant = $1 order by name', [tenant]);
    throw new UserError('validation', `role: tenant "${tenantSlug}" has no role "${role}" (roles: ${names.map((r) => r.name).join(', ')})`, { field: 'role' });
  }
  let rows;
  try {
    ({ rows } = await db.query(
      `insert into psa.users (tenant, email, display_name) values ($1, $2, $3) returning user_id`,
      [tenant, email, display_name ?? null],
    ));
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      throw new UserError('conflict', `tenant "${tenantSlug}" already has a user with email "${email}"`, { field: 'email' });
    }
    throw error;
  }
  const userId = rows[0].user_id as string;
  await db.query(`insert into psa.user_roles (tenant, user_id, role_id) values ($1, $2, $3)`, [tenant, userId, roles[0].role_id]);
  return { user_id: userId, email, role };
}

/**
 * Runs as the database owner (CLI). Replaces a user's password and revokes their sessions (a
 * password change must end a session someone else may hold), in one transaction.
 */
export async function setUserPassword(
  db: pg.ClientBase,
  tenantSlug: string,
  email: string,
  password: string,
): Promise<{ user_id: string; email: string; sessions_revoked: number }> {
  checkPassword(password);
  const tenant = await tenantIdForSlug(db, tenantSlug);
  const { rows: users } = await db.query('select user_id, email from psa.users where tenant = $1 and lower(email) = lower($2)', [tenant, email]);
  if (!users[0]) throw new UserError('not_found', `tenant "${tenantSlug}" has no user with email "${email}"`);
  await db.query('begin');
  try {
    await setPassword(db, tenant, users[0].user_id, password);
    const revoked = await revokeUserSessions(db, tenant, users[0].user_id);
    await db.query('commit');
    return { user_id: users[0].user_id, email: users[0].email, sessions_revoked: revoked };
  } catch (error) {
    await db.query('rollback').catch(() => {});
    throw error;
  }
}

/** Runs as the database owner (CLI). The key is returned here once and never again. */
export async function createApiKey(
  db: pg.ClientBase | pg.Pool,
  tenantSlug: string,
  email: string,
): Promise<{ api_key_id: string; prefix: string; api_key: string }> {
  const tenant = await tenantIdForSlug(db, tenantSlug);
  const { rows: users } = await db.query(
    'select user_id, is_active from psa.users where tenant = $1 and lower(email) = lower($2)',
    [tenant, email],
  );
  if (!users[0]) throw new UserError('not_found', `tenant "${tenantSlug}" has no user with email "${email}"`);
  if (!users[0].is_active) throw new UserError('validation', `user "${email}" is inactive`);
  const { key, prefix } = generateApiKey(tenant);
  const { rows } = await db.query(
    `insert into psa.api_keys (tenant, user_id, prefix, key_hash) values ($1, $2, $3, $4) returning api_key_id`,
    [tenant, users[0].user_id, prefix, hashToken(key)],
  );
  return { api_key_id: rows[0].api_key_id as string, prefix, api_key: key };
}
