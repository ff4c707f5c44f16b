// Finds (or starts) the real Postgres and Redis the suite talks to, and migrates a template
// database once; each test file then clones its own database from it (test/support/db.ts).
//   Postgres: DATABASE_URL's server if set, else 127.0.0.1:5432 if it answers, else an embedded
//             server under .data/test-pg.
//   Redis:    REDIS_URL if set, else 127.0.0.1:6379 if it answers, else `redis-server` on a
//             spare port if it is installed.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openEmbeddedPostgres, type EmbeddedServer } from '../../core/embeddedPostgres.ts';
import { PROJECT_ROOT } from '../../core/env.ts';
import { migrateDatabase } from '../../core/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDatabase: string;
    redisUrl: string;
    /** test databases of this run are named <prefix><random>, so runs side by side never collide */
    databasePrefix: string;
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function redisPing(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

let embedded: EmbeddedServer | null = null;
let redisChild: ChildProcess | null = null;
let adminUrl = '';
let templateDatabase = '';
let databasePrefix = '';

async function findPostgres(): Promise<string> {
  if (process.env.DATABASE_URL) return withDatabase(process.env.DATABASE_URL, 'postgres');
  const local = 'postgres://postgres@127.0.0.1:5432/postgres';
  if (await canConnect(local)) return local;
  embedded = await openEmbeddedPostgres(path.join(PROJECT_ROOT, '.data', 'test-pg-root'), 54339);
  return withDatabase(embedded.connectionString, 'postgres');
}

async function findRedis(): Promise<string> {
  if (process.env.REDIS_URL) return process.env.REDIS_URL;
  if (await redisPing('127.0.0.1', 6379)) return 'redis://127.0.0.1:6379';
  const port = 56379;
  redisChild = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  redisChild.on('error', () => {});
  for (let i = 0; i < 50; i++) {
    if (await redisPing('127.0.0.1', port)) return `redis://127.0.0.1:${port}`;
    await sleep(100);
  }
  throw new Error('tests need Redis: set REDIS_URL, run one on 127.0.0.1:6379, or install redis-server');
}

export async function setup(project: TestProject): Promise<void> {
  adminUrl = await findPostgres();
  const redisUrl = await findRedis();
  templateDatabase = `intake_test_template_${process.pid}`;
  databasePrefix = `intake_t${process.pid}_`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${templateDatabase}`);
    await admin.query(`create database ${templateDatabase}`);
  } finally {
    await admin.end();
  }
  await migrateDatabase(withDatabase(adminUrl, templateDatabase));
  project.provide('adminUrl', adminUrl);
  project.provide('templateDatabase', templateDatabase);
  project.provide('redisUrl', redisUrl);
  project.provide('databasePrefix', databasePrefix);
}

export async function teardown(): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // This run's test databases a crashed file may have left behind, then the template.
    const { rows } = await admin.query(`select datname from pg_database where starts_with(datname, $1)`, [databasePrefix]);
    for (const row of rows) await admin.query(`drop database if exists ${row.datname} with (force)`);
    await admin.query(`drop database if exists ${templateDatabase} with (force)`);
  } finally {
    await admin.end();
  }
  redisChild?.kill();
  await embedded?.stop();
}
