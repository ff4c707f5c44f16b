// Where the database is: DATABASE_URL when set, otherwise the embedded server under .data/.
import pg from 'pg';
import { resolveMasterKey } from './crypto.ts';
import { openEmbeddedPostgres } from './embeddedPostgres.ts';
import type { Env } from './env.ts';

export interface Database {
  connectionString: string;
  embedded: boolean;
  masterKey: Buffer;
  /** stops an embedded server this process started; a no-op otherwise */
  close(): Promise<void>;
}

export async function openDatabase(env: Env): Promise<Database> {
  if (env.databaseUrl) {
    return {
      connectionString: env.databaseUrl,
      embedded: false,
      masterKey: resolveMasterKey(env.masterKey, env.dataDir, false),
      close: async () => {},
    };
  }
  const masterKey = resolveMasterKey(env.masterKey, env.dataDir, true);
  const server = await openEmbeddedPostgres(env.dataDir, env.embeddedPgPort);
  return { connectionString: server.connectionString, embedded: true, masterKey, close: () => server.stop() };
}

/**
 * What no connection of a pool may exceed, in ms (0: no limit). A statement that runs away, a lock
 * waited for without end, a transaction left open by a stuck caller, or a server that accepts the
 * connection and never answers would otherwise hold a connection (and the work behind it) for
 * good. Sent as the connection's startup settings, so `set local` can still change them for one
 * transaction (the drain's lock wait does).
 */
export interface PoolTimeouts {
  statementMs: number;
  lockMs: number;
  idleInTransactionMs: number;
  connectMs: number;
}

/** The defaults of INTAKE_DB_*_TIMEOUT_MS (.env.example). */
export const DEFAULT_POOL_TIMEOUTS: PoolTimeouts = {
  statementMs: 30_000,
  lockMs: 15_000,
  idleInTransactionMs: 60_000,
  connectMs: 10_000,
};

/**
 * For work that may legitimately run long on its one connection (migrations): only the connect
 * timeout and the idle-in-transaction one.
 */
export const MIGRATION_POOL_TIMEOUTS: PoolTimeouts = { ...DEFAULT_POOL_TIMEOUTS, statementMs: 0, lockMs: 0 };

export function createPool(connectionString: string, max: number, timeouts: PoolTimeouts = DEFAULT_POOL_TIMEOUTS): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    statement_timeout: timeouts.statementMs,
    lock_timeout: timeouts.lockMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
    connectionTimeoutMillis: timeouts.connectMs,
    // a connection whose peer vanished (a host gone, a network cut) is found out, not waited on
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  // A connection dropping (idle or checked out) must not crash the process: the query in
  // flight fails and is handled where it was made; the next one reconnects.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/**
 * Runs `fn` in one transaction with these settings set transaction-locally (a role, the tenant,
 * the user: what row-level security and the SQL API read); commits when it returns, rolls back
 * when it throws. The management APIs' requests (api/settings.ts withClaims) and the worker's
 * tasks (worker/asApp.ts) are this with their own settings.
 */
export async function withSettings<T>(pool: pg.Pool, settings: Record<string, string>, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('select set_config(k, v, true) from jsonb_each_text($1::jsonb) as s(k, v)', [JSON.stringify(settings)]);
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
