// The Citus rule (DESIGN.md), checked in the catalog of a migrated database: every tenant table
// can be distributed by tenant. The checks return violations as text, so a failure names the
// table and the rule; the last test proves each check catches what it is meant to.
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

const SCHEMAS = ['psa', 'intake', 'intake_private'];

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** Every table in the tenant schemas, with the facts the rules need. */
async function tenantTables(client: pg.ClientBase | pg.Pool, schemas: string[]) {
  const { rows } = await client.query(
    `select c.oid, format('%I.%I', n.nspname, c.relname) as name, c.relrowsecurity, c.relforcerowsecurity,
            a.attnum as tenant_attnum, format_type(a.atttypid, a.atttypmod) as tenant_type, a.attnotnull as tenant_not_null,
            (select count(*)::int from pg_policy p where p.polrelid = c.oid) as policies
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       left join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant' and not a.attisdropped
      where n.nspname = any($1) and c.relkind in ('r', 'p') and not c.relispartition
      order by 2`,
    [schemas],
  );
  return rows as {
    oid: number; name: string; relrowsecurity: boolean; relforcerowsecurity: boolean;
    tenant_attnum: number | null; tenant_type: string | null; tenant_not_null: boolean | null; policies: number;
  }[];
}

async function violations(client: pg.ClientBase | pg.Pool, schemas: string[]): Promise<string[]> {
  const found: string[] = [];
  const tables = await tenantTables(client, schemas);
  const byOid = new Map(tables.map((t) => [Number(t.oid), t]));

  for (const t of tables) {
    if (t.tenant_attnum === null) {
      found.push(`${t.name}: no tenant column`);
      continue;
    }
    if (t.tenant_type !== 'uuid' || !t.tenant_not_null) found.push(`${t.name}: tenant is ${t.tenant_type}${t.tenant_not_null ? ' not null' : ' nullable'}, not uuid not null`);
    if (!t.relrowsecurity) found.push(`${t.name}: row-level security is not enabled`);
    if (t.policies === 0) found.push(`${t.name}: no row-level security policy`);
  }

  // Primary keys: tenant first. Unique indexes (constraints, partial ones too): bare tenant
  // first; psa.tenants, whose key IS the tenant, keeps its global unique slug.
  const { rows: indexes } = await client.query(
    `select i.indrelid as oid, ic.relname as index, i.indisprimary, i.indkey[0] as first_attnum,
            pg_get_indexdef(i.indexrelid) as def
       from pg_index i join pg_class ic on ic.oid = i.indexrelid
      where i.indrelid = any($1) and (i.indisunique or i.indisprimary)`,
    [tables.map((t) => t.oid)],
  );
  for (const t of tables.filter((t) => t.tenant_attnum !== null)) {
    const own = indexes.filter((i) => Number(i.oid) === Number(t.oid));
    const pk = own.find((i) => i.indisprimary);
    if (!pk) found.push(`${t.name}: no primary key`);
    for (const index of own) {
      if (t.name === 'psa.tenants' && !index.indisprimary) continue;
      if (Number(index.first_attnum) !== Number(t.tenant_attnum)) {
        found.push(`${t.name}: ${index.indisprimary ? 'primary key' : 'unique index'} ${index.index} does not begin with the bare tenant column: ${index.def}`);
      }
    }
  }

  // Foreign keys: between tenant tables they carry tenant → tenant; none from elsewhere in.
  const { rows: fks } = await client.query(
    `select con.conname, con.conrelid as from_oid, con.confrelid as to_oid, con.conkey, con.confkey,
            con.conrelid::regclass::text as from_name, con.confrelid::regclass::text as to_name,
            fn.nspname as from_schema, tn.nspname as to_schema
       from pg_constraint con
       join pg_class fc on fc.oid = con.conrelid join pg_namespace fn on fn.oid = fc.relnamespace
       join pg_class tc on tc.oid = con.confrelid join pg_namespace tn on tn.oid = tc.relnamespace
      where con.contype = 'f' and (fn.nspname = any($1) or tn.nspname = any($1))`,
    [schemas],
  );
  for (const fk of fks) {
    const from = byOid.get(Number(fk.from_oid));
    const to = byOid.get(Number(fk.to_oid));
    if (!from || !to) {
      found.push(`foreign key ${fk.conname} (${fk.from_name} → ${fk.to_name}) crosses between a tenant table and ${fk.from_schema === 'graphile_worker' || fk.to_schema === 'graphile_worker' ? 'graphile_worker' : 'a global table'}`);
      continue;
    }
    const pairs = (fk.conkey as number[]).map((attnum, i) => [Number(attnum), Number((fk.confkey as number[])[i])]);
    if (!pairs.some(([f, r]) => f === Number(from.tenant_attnum) && r === Number(to.tenant_attnum))) {
      found.push(`foreign key ${fk.conname} (${fk.from_name} → ${fk.to_name}) does not map tenant to tenant`);
    }
  }
  return found;
}

it('finds the tenant tables', async () => {
  const names = (await tenantTables(db.pool, SCHEMAS)).map((t) => t.name);
  expect(names).toEqual(expect.arrayContaining([
    'psa.tenants', 'psa.tickets', 'psa.tenant_external_entity_mappings', 'intake.inbound_webhooks',
    'intake.inbound_webhook_deliveries', 'intake_private.inbound_webhook_secrets',
    'psa.ticket_comments', 'psa.invoices', 'psa.invoice_lines', 'psa.invoice_payments', 'psa.projects',
    'psa.project_phases', 'psa.project_tasks', 'psa.time_entries', 'psa.tags', 'psa.tag_links',
    'psa.asset_device_details', 'intake.workflows', 'intake.workflow_runs',
  ]));
});

it('every tenant table follows the Citus rule', async () => {
  expect(await violations(db.pool, SCHEMAS)).toEqual([]);
});

it('the checks catch each kind of violation', async () => {
  const client = await db.pool.connect();
  try {
    await client.query('begin');
    await client.query(`create schema citus_probe`);
    await client.query(`
      create table citus_probe.parent (tenant uuid not null, id uuid not null, primary key (tenant, id));
      alter table citus_probe.parent enable row level security;
      create policy p on citus_probe.parent using (true);
      create table citus_probe.bad (
        id uuid primary key,                                   -- pk not led by tenant
        tenant uuid,                                           -- nullable
        parent_id uuid,
        code text,
        foreign key (tenant, parent_id) references citus_probe.parent (id, tenant) -- tenant → id
      );
      create unique index bad_code on citus_probe.bad (lower(code));                  -- no tenant
      create unique index bad_expr on citus_probe.bad ((tenant::text), code);         -- expression on tenant
      create table citus_probe.untenanted (id int primary key);
      create table citus_probe.global (id int primary key, parent_tenant uuid, parent_id uuid,
        foreign key (parent_tenant, parent_id) references citus_probe.parent (tenant, id));`);
    // global is a "global table" only if it is outside the checked schemas: check probe + public
    await client.query(`alter table citus_probe.global set schema public`);
    const found = await violations(client, ['citus_probe']);
    const expectFound = (pattern: RegExp) => expect(found.some((v) => pattern.test(v)), `${pattern} in\n${found.join('\n')}`).toBe(true);
    expectFound(/citus_probe\.bad: tenant is uuid nullable/);
    expectFound(/citus_probe\.bad: row-level security is not enabled/);
    expectFound(/citus_probe\.bad: no row-level security policy/);
    expectFound(/citus_probe\.bad: primary key bad_pkey does not begin/);
    expectFound(/citus_probe\.bad: unique index bad_code does not begin/);
    expectFound(/citus_probe\.bad: unique index bad_expr does not begin/);
    expectFound(/foreign key .* \(citus_probe\.bad → citus_probe\.parent\) does not map tenant to tenant/);
    expectFound(/citus_probe\.untenanted: no tenant column/);
    expectFound(/\(global → citus_probe\.parent\) crosses between a tenant table and a global table/);
    expect(found.some((v) => v.includes('citus_probe.parent:'))).toBe(false);
  } finally {
    await client.query('rollback');
    client.release();
  }
});

it('every foreign key that acts on delete has an index on its columns', async () => {
  // Without one, each deleted target row costs a scan of the referencing table: deleting many
  // deliveries, whose duplicate_of points into the same table, went quadratic.
  const { rows } = await db.pool.query(
    `select format('%s (%s) → %s', con.conrelid::regclass, (select string_agg(a.attname, ', ' order by a.attnum)
              from pg_attribute a where a.attrelid = con.conrelid and a.attnum = any(con.conkey)), con.confrelid::regclass) as fk
       from pg_constraint con
       join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
      where con.contype = 'f' and con.confdeltype in ('c', 'n', 'd') and n.nspname = any($1)
        and not exists (
          select 1 from pg_index i
           where i.indrelid = con.conrelid
             and (select array_agg(k order by k) from unnest((i.indkey::int2[])[0:cardinality(con.conkey) - 1]) k)
               = (select array_agg(k order by k) from unnest(con.conkey) k))
      order by 1`,
    [SCHEMAS],
  );
  expect(rows.map((r) => r.fk)).toEqual([]);
});
