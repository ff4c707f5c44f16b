// Who may use the management APIs: PSA users with roles, and API keys that act as a user.
// An API key is `ik_<tenant uuid, 32 hex>_<43 characters of base64url randomness>`: the tenant
// part lets the lookup filter by tenant first (design rule 4), the random part is the secret.
// Only the SHA-256 of the whole key is stored; the key is shown once, at creation.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { z } from 'zod';
import { hashToken } from './crypto.ts';
import { UserError } from './errors.ts';
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

/** Runs as the database owner (CLI). Creates a user with one role of the tenant. */
export async function createUser(
  db: pg.ClientBase,
  tenantSlug: string,
  raw: { email?: unknown; role?: unknown; display_name?: unknown },
): Promise<{ user_id: string; email: string; role: string }> {
  const parsed = userCreateSchema.safeParse(raw);
  if (!parsed.success) throw new UserError('validation', formatZodError(parsed.error));
  const { email, role, display_name } = parsed.data;
  const tenant = await tenantIdForSlug(db, tenantSlug);
  await db.query('begin');
  try {
    const { rows: roles } = await db.query('select role_id from psa.roles where tenant = $1 and name = $2', [tenant, role]);
    if (!roles[0]) {
      const { rows: names } = await db.query('select name from psa.roles where tenant = $1 order by name', [tenant]);
      throw new UserError('validation', `role: tenant "${tenantSlug}" has no role "${role}" (roles: ${names.map((r) => r.name).join(', ')})`);
    }
    const { rows } = await db.query(
      `insert into psa.users (tenant, email, display_name) values ($1, $2, $3) returning user_id`,
      [tenant, email, display_name ?? null],
    );
    const userId = rows[0].user_id as string;
    await db.query(`insert into psa.user_roles (tenant, user_id, role_id) values ($1, $2, $3)`, [tenant, userId, roles[0].role_id]);
    await db.query('commit');
    return { user_id: userId, email, role };
  } catch (error) {
    await db.query('rollback').catch(() => {});
    if ((error as { code?: string }).code === '23505') {
      throw new UserError('conflict', `tenant "${tenantSlug}" already has a user with email "${email}"`);
    }
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
