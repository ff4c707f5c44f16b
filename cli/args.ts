// What every `intake` command shares: argument parsing with one-line errors, and a database
// connection (migrated first) that is closed, and an embedded server stopped, when done.
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import pg from 'pg';
import { openDatabase, type Database } from '../core/database.ts';
import { loadEnv } from '../core/env.ts';
import { errorMessage } from '../core/log.ts';
import { migrateDatabase } from '../core/migrate.ts';

/** A bad argument: one line on stderr, exit 2. */
export class UsageError extends Error {}

export function need(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** a uuid, as ids are written */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Repeated `--flag KEY=VALUE` options as an object (the value may hold "="); `shape` names them in the error. */
export function pairsOption(entries: string[] | undefined, flag: string, shape: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const entry of entries ?? []) {
    const at = entry.indexOf('=');
    if (at < 1) throw new UsageError(`--${flag} takes ${shape}, got "${entry}"`);
    pairs[entry.slice(0, at).trim()] = entry.slice(at + 1);
  }
  return pairs;
}

export function intOption(values: Record<string, unknown>, name: string): number | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new UsageError(`--${name} must be a whole number, got "${String(value)}"`);
  }
  return n;
}

export function parse(args: string[], options: ParseArgsOptionsConfig) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true }).values as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(errorMessage(error).replace(/\. To specify.*$/, ''));
  }
}

export async function withDatabase<T>(run: (client: pg.Client, db: Database) => Promise<T>): Promise<T> {
  const env = loadEnv();
  const db = await openDatabase(env);
  try {
    await migrateDatabase(db.connectionString);
    const client = new pg.Client({ connectionString: db.connectionString });
    await client.connect();
    try {
      return await run(client, db);
    } finally {
      await client.end();
    }
  } finally {
    await db.close();
  }
}
