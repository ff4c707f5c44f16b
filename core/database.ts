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

export function createPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  // A connection dropping (idle or checked out) must not crash the process: the query in
  // flight fails and is handled where it was made; the next one reconnects.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}
