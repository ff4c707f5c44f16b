// One transaction as intake_app (row-level security applies) with the tenant set, the way a
// task that is not a drain does its work: commits when fn returns, rolls back when it throws.
import type pg from 'pg';

export async function asApp<T>(pool: pg.Pool, tenant: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(`select set_config('role', 'intake_app', true), set_config('intake.tenant', $1, true)`, [tenant]);
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
