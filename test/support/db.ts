// A database of the test file's own, cloned from the migrated template in a few hundred ms.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  url: string;
  name: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

export function databaseUrl(database: string): string {
  const u = new URL(inject('adminUrl'));
  u.pathname = '/' + database;
  return u.toString();
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `${inject('databasePrefix')}${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: inject('adminUrl') });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${inject('templateDatabase')}`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => {});
  return {
    url,
    name,
    pool,
    async drop() {
      await pool.end();
      const admin = new pg.Client({ connectionString: inject('adminUrl') });
      await admin.connect();
      try {
        await admin.query(`drop database if exists ${name} with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/**
 * Runs `fn` in a transaction as the real application role (intake_app) with the tenant claim
 * set, then rolls back: what a request of that tenant could see and do.
 */
export async function asTenant<T>(pool: pg.Pool, tenant: string | null, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(`select set_config('role', 'intake_app', true), set_config('intake.tenant', $1, true)`, [tenant ?? '']);
    return await fn(client);
  } finally {
    await client.query('rollback').catch(() => {});
    client.release();
  }
}

/**
 * As asTenant, but as intake_user acting for a user (tenant and user claims set), then rolls
 * back: what a GraphQL or REST request of that user could see and do.
 */
export async function asUser<T>(pool: pg.Pool, tenant: string, userId: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(
      `select set_config('role', 'intake_user', true), set_config('intake.tenant', $1, true), set_config('intake.user_id', $2, true)`,
      [tenant, userId],
    );
    return await fn(client);
  } finally {
    await client.query('rollback').catch(() => {});
    client.release();
  }
}
