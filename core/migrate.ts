// Brings a database up to date, in the order things depend on each other: the graphile_worker
// schema (our SQL enqueues into it), then graphile-migrate's committed migrations, then the
// function and view files (reloaded every time, so editing one needs no migration).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { Logger as MigrateLogger, migrate as graphileMigrate } from 'graphile-migrate';
import { Logger as WorkerLogger, runMigrations as workerMigrations } from 'graphile-worker';
import pg from 'pg';
import { loadFunctions } from '../db/loadFunctions.ts';
import { createPool, MIGRATION_POOL_TIMEOUTS } from './database.ts';
import { PROJECT_ROOT } from './env.ts';
import { log } from './log.ts';

// graphile-migrate and graphile-worker would log to stdout, which belongs to CLI output.
// (Each package bundles its own copy of @graphile/logger, hence two loggers.)
const logTo = () => (level: string, message: string) => {
  if (level === 'error') log.error(message);
  else if (level === 'warning') log.warn(message);
  else log.debug(message);
};
const workerLogger = new WorkerLogger(logTo);
const migrateLogger = new MigrateLogger(logTo);

// Any constant works; it names "Intake is migrating this database" for pg_advisory_lock.
const MIGRATION_LOCK = 7_215_004_211;

export async function migrateDatabase(connectionString: string): Promise<void> {
  // One migrator at a time: CLI commands and processes starting together would otherwise race
  // graphile-migrate's own lock, and the loser fails instead of waiting.
  const lock = new pg.Client({ connectionString });
  lock.on('error', () => {});
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const pool = createPool(connectionString, 1, MIGRATION_POOL_TIMEOUTS);
    try {
      await workerMigrations({ pgPool: pool, logger: workerLogger });
    } finally {
      await pool.end();
    }
    await graphileMigrate(
      {
        connectionString,
        migrationsFolder: path.join(PROJECT_ROOT, 'db', 'migrations'),
        // no shadow database and no hooks here: functions are loaded below, in-process
        afterAllMigrations: [],
        manageGraphileMigrateSchema: true,
        logger: migrateLogger,
      },
      false,
      false,
    );
    // graphile-migrate keeps its pool 200 ms after use and exits the process if that pool sees
    // an error; let it close before anything (a CLI call on the embedded server) stops Postgres.
    await setTimeout(250);
    const count = await loadFunctions(lock);
    log.debug('functions loaded', { files: count });
    // delivery bodies' day partitions a week ahead (the daily cron task keeps them so)
    await lock.query('select intake_private.make_body_partitions(7)');
  } finally {
    await lock.end(); // ends the session, releasing the advisory lock
  }
}

let newestHash: string | null | undefined;

/** The `--! Hash:` of the newest committed migration this code was built with (null: none). */
export function newestMigrationHash(): string | null {
  if (newestHash !== undefined) return newestHash;
  const folder = path.join(PROJECT_ROOT, 'db', 'migrations', 'committed');
  const newest = readdirSync(folder).filter((f) => f.endsWith('.sql')).sort().at(-1);
  newestHash = newest ? (/^--! Hash: (\S+)$/m.exec(readFileSync(path.join(folder, newest), 'utf8'))?.[1] ?? null) : null;
  return newestHash;
}

/**
 * Whether the database has every migration this code knows (it may have newer ones: `intake
 * migrate` of a newer release runs while this one still serves, which additive migrations allow;
 * docs/operations.md "Upgrades").
 */
export async function migrationsCurrent(db: pg.Pool | pg.ClientBase): Promise<boolean> {
  const hash = newestMigrationHash();
  if (hash === null) return true;
  const { rows } = await db.query<{ applied: boolean }>(
    `select to_regclass('graphile_migrate.migrations') is not null
            and exists (select from graphile_migrate.migrations where hash = $1) as applied`,
    [hash],
  ).catch(async (error: { code?: string }) => {
    // the table does not exist: the exists() above is planned before to_regclass is evaluated
    if (error.code === '42P01') return { rows: [{ applied: false }] };
    throw error;
  });
  return rows[0]?.applied === true;
}
