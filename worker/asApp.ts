// One transaction as intake_app (row-level security applies) with the tenant set, the way a
// task that is not a drain does its work: commits when fn returns, rolls back when it throws.
import type pg from 'pg';
import { withSettings } from '../core/database.ts';

export function asApp<T>(pool: pg.Pool, tenant: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withSettings(pool, { role: 'intake_app', 'intake.tenant': tenant }, fn);
}
