// Tenants: created with their seeded reference data by intake.create_tenant().
import type pg from 'pg';
import { UserError } from './errors.ts';
import { formatZodError, tenantCreateSchema } from './webhookConfig.ts';

export async function createTenant(db: pg.ClientBase | pg.Pool, input: { slug?: unknown; name?: unknown }) {
  const parsed = tenantCreateSchema.safeParse(input);
  if (!parsed.success) throw new UserError('validation', formatZodError(parsed.error));
  try {
    const { rows } = await db.query('select intake.create_tenant($1, $2) as tenant_id', [parsed.data.slug, parsed.data.name]);
    return { tenant_id: rows[0].tenant_id as string, slug: parsed.data.slug };
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      throw new UserError('conflict', `a tenant with slug "${parsed.data.slug}" already exists`);
    }
    throw error;
  }
}

/** The tenant id for a slug, or a not_found error naming it. */
export async function tenantIdForSlug(db: pg.ClientBase | pg.Pool, slug: string): Promise<string> {
  const { rows } = await db.query('select tenant from psa.tenants where slug = $1', [slug]);
  if (!rows[0]) throw new UserError('not_found', `no tenant with slug "${slug}"`);
  return rows[0].tenant;
}
