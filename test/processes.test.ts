// Intake as separate processes, the way it is deployed (test/support/cli.ts starts the real
// `intake` command). Each test has a database of its own.
//
// SIGTERM under load: `intake start` (receiver and worker in one process) is sent SIGTERM while
// eight senders keep posting. It must exit 0 within its bound; every request it had read is
// answered (recorded → 200, or 503), so every delivery in the database was answered 200 to its
// sender; and after a fresh worker finishes what was left pending, every 200 is dispatched
// exactly once. The same process logs one JSON line per request with its request id, and never
// a path token or a credential.
//
// Several processes on one database, as docs/scaling.md describes: two `intake receiver` and
// two `intake worker` processes, loopback, under load from senders spread over both receivers
// and three webhooks. Meanwhile `intake migrate` runs, as an upgrade runs it while the old
// processes still serve (with no new migration here, what it does under them is reload every
// SQL function, `create or replace`, and re-check graphile-worker's schema). Then: every delivery accepted (200)
// is dispatched exactly once; nothing is left pending; no request got a 5xx, also during the
// migrate; and one webhook's deliveries through one receiver took effect in arrival order
// (docs/architecture.md "Order": order holds per receiver process).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, expect, inject, it } from 'vitest';
import { runIntake, startIntake, type RunningIntake } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { actionWebhook } from './support/inbound.ts';
import { makeTenant, testRedisKeyPrefix, waitFor } from './support/server.ts';
import { send } from './faults/support.ts';

const databases: TestDatabase[] = [];
const processes: RunningIntake[] = [];
afterEach(async () => {
  for (const p of processes.splice(0)) await p.stop();
});
afterAll(async () => {
  for (const d of databases) await d.drop();
});

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  databases.push(db);
  return db;
}

/** every process's environment (LOG_LEVEL and the rest per test) */
const baseEnv = { PORT: '0', HOST: '127.0.0.1', REDIS_URL: inject('redisUrl'), INTAKE_REDIS_KEY_PREFIX: testRedisKeyPrefix(), INTAKE_SOURCE_RATE_LIMIT_PER_MINUTE: '0' };

it('on SIGTERM under load answers what it read, exits 0 in its bound, and every 200 is dispatched exactly once', async () => {
  const db = await freshDatabase();
  const env = { ...baseEnv, LOG_LEVEL: 'info', INTAKE_SHUTDOWN_TIMEOUT_MS: '15000' };
  await makeTenant(db.pool, 'term');
  const hook = await actionWebhook(db.pool, 'term', 'alerts', 'createTicket', { title: 'title' });
  const running = startIntake(db.url, ['start'], env);
  processes.push(running);
  const url = /listening on (http:\/\/\S+)/.exec(await running.line(/Intake listening on/, 60_000))![1]!;
  const inbound = `${url}/api/inbound/term/alerts`;

  // One request whose secrets must not reach the log, with a request id to find its line by.
  const tracked = await fetch(`${inbound}?token=PATH-TOKEN-SECRET`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer BEARER-SECRET', 'x-request-id': 'tracked-req-1' },
    body: '{"title":"tracked"}',
  });
  expect(tracked.status).toBe(401);
  expect(tracked.headers.get('x-request-id')).toBe('tracked-req-1');

  const answers: { title: string; status: number; deliveryId: string | null }[] = [];
  let sending = true;
  let n = 0;
  const senders = Array.from({ length: 8 }, async () => {
    while (sending) {
      const title = `t${n++}`;
      const answer = await send(inbound, { title }, hook.secret, { timeoutMs: 10_000 });
      answers.push({ title, status: answer.status, deliveryId: answer.body?.delivery_id ?? null });
      if (answer.status !== 200) await sleep(20);
    }
  });
  await waitFor(async () => (answers.filter((a) => a.status === 200).length >= 200 ? true : undefined), 30_000, '200 accepted requests');
  const signalled = performance.now();
  const code = await running.stop();
  const exitSeconds = (performance.now() - signalled) / 1000;
  sending = false;
  await Promise.all(senders);

  expect(code).toBe(0);
  expect(exitSeconds).toBeLessThan(15);
  const accepted = answers.filter((a) => a.status === 200);
  // Refused ones were told to retry (503) or could not connect (0) once the listener had closed.
  expect(new Set(answers.filter((a) => a.status !== 200).map((a) => a.status))).toSatisfy((s: Set<number>) => [...s].every((x) => x === 503 || x === 0));

  // Every delivery recorded was answered 200: none was recorded behind a lost answer.
  const { rows: recorded } = await db.pool.query<{ delivery_id: string }>(`select delivery_id from intake.inbound_webhook_deliveries`);
  expect(new Set(recorded.map((r) => r.delivery_id))).toEqual(new Set(accepted.map((a) => a.deliveryId)));

  // What the stopped worker left pending, a new one finishes: every 200 exactly once.
  const worker = startIntake(db.url, ['worker'], env);
  processes.push(worker);
  await worker.line(/Intake worker running/, 60_000); // its SIGTERM handler is set up from here
  await waitFor(async () => {
    const { rows } = await db.pool.query(`select count(*)::int as n from intake.inbound_webhook_deliveries where dispatch_status = 'pending'`);
    return rows[0].n === 0 ? true : undefined;
  }, 60_000, 'nothing pending');
  expect(await worker.stop()).toBe(0);
  const { rows: tickets } = await db.pool.query<{ title: string; n: number }>(`select title, count(*)::int as n from psa.tickets group by title`);
  const perTitle = new Map(tickets.map((t) => [t.title, t.n]));
  expect(accepted.filter((a) => perTitle.get(a.title) !== 1)).toEqual([]);
  expect(tickets.filter((t) => t.n > 1)).toEqual([]);
  expect(tickets.length).toBe(accepted.length);

  // The log: JSON lines, one per request, with its id; no secret of the tracked request in it.
  const lines = running.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
  const line = lines.find((l) => l.msg === 'request' && l.req_id === 'tracked-req-1');
  expect(line).toMatchObject({ level: 'info', method: 'POST', path: '/api/inbound/term/alerts', status: 401 });
  expect(lines.filter((l) => l.msg === 'request' && l.status === 200).length).toBe(accepted.length);
  expect(running.stderr).not.toContain('PATH-TOKEN-SECRET');
  expect(running.stderr).not.toContain('BEARER-SECRET');
  expect(lines.some((l) => l.msg === 'shut down')).toBe(true);
}, 150_000);

const WEBHOOKS = ['a', 'b', 'c'];

it('two receivers and two workers: every 200 dispatched once, none pending, order per webhook per receiver, migrate under load', async () => {
  const db = await freshDatabase();
  const env = { ...baseEnv, LOG_LEVEL: 'warn', INTAKE_WORKER_CONCURRENCY: '4', INTAKE_SHUTDOWN_TIMEOUT_MS: '15000' };
  await makeTenant(db.pool, 'many');
  const hooks = await Promise.all(WEBHOOKS.map((slug) => actionWebhook(db.pool, 'many', slug, 'createTicket', { title: 'title' })));
  const receivers = [startIntake(db.url, ['receiver'], env), startIntake(db.url, ['receiver'], env)];
  const workers = [startIntake(db.url, ['worker'], env), startIntake(db.url, ['worker'], env)];
  processes.push(...receivers, ...workers);
  const urls = await Promise.all(receivers.map(async (r) => /listening on (http:\/\/\S+)/.exec(await r.line(/Intake listening on/, 60_000))![1]!));
  await Promise.all(workers.map((w) => w.line(/Intake worker running/, 60_000)));

  const answers: { title: string; status: number }[] = [];
  let sending = true;
  // Two senders per receiver and webhook, each waiting for its answer before the next request.
  const senders = urls.flatMap((url, r) => hooks.flatMap((hook, w) => [0, 1].map(async (k) => {
    for (let seq = 0; sending; seq++) {
      const title = `r${r}-w${w}-s${k}-${seq}`;
      const answer = await send(`${url}/api/inbound/many/${WEBHOOKS[w]}`, { title }, hook.secret, { timeoutMs: 10_000 });
      answers.push({ title, status: answer.status });
    }
  })));
  await sleep(1500);
  const migrate = await runIntake(db.url, ['migrate'], { LOG_LEVEL: 'warn' });
  await sleep(1500);
  sending = false;
  await Promise.all(senders);

  expect(migrate.code, migrate.stderr).toBe(0);
  const accepted = answers.filter((a) => a.status === 200);
  expect(accepted.length).toBeGreaterThan(200);
  expect(answers.filter((a) => a.status !== 200)).toEqual([]); // no 5xx, also while migrate ran
  for (const r of [0, 1]) expect(accepted.some((a) => a.title.startsWith(`r${r}-`))).toBe(true);

  await waitFor(async () => {
    const { rows } = await db.pool.query(`select count(*)::int as n from intake.inbound_webhook_deliveries where dispatch_status = 'pending'`);
    return rows[0].n === 0 ? true : undefined;
  }, 60_000, 'nothing pending');
  const stopped = performance.now();
  const codes = await Promise.all([...receivers, ...workers].map((p) => p.stop()));
  const stops = [...receivers, ...workers].map((p, i) => ({ i, code: codes[i], stderr: p.stderr.slice(-1500) }));
  expect(stops.filter((s) => s.code !== 0)).toEqual([]);
  expect(performance.now() - stopped).toBeLessThan(15_000);

  const { rows: statuses } = await db.pool.query(`select dispatch_status, count(*)::int as n from intake.inbound_webhook_deliveries group by 1`);
  expect(statuses).toEqual([{ dispatch_status: 'dispatched', n: accepted.length }]);
  const { rows: tickets } = await db.pool.query<{ title: string; n: number }>(`select title, count(*)::int as n from psa.tickets group by title`);
  expect(tickets.filter((t) => t.n !== 1)).toEqual([]);
  expect(new Set(tickets.map((t) => t.title))).toEqual(new Set(accepted.map((a) => a.title)));

  // Order: per webhook and receiver, tickets (numbered as they were created) follow the
  // deliveries' arrival times, and each sender's sequence.
  const { rows: applied } = await db.pool.query<{ title: string; received_at: number; number: number }>(
    `select t.title, (extract(epoch from d.received_at) * 1e6)::float8 as received_at, substring(t.ticket_number from 3)::int as number
       from psa.tickets t
       join intake.inbound_webhook_deliveries d on d.tenant = t.tenant and (intake.delivery_with_body(d)).request_body->>'title' = t.title
      order by number`,
  );
  expect(applied.length).toBe(accepted.length);
  let checked = 0;
  for (const r of [0, 1]) {
    for (const w of WEBHOOKS.keys()) {
      const stream = applied.filter((a) => a.title.startsWith(`r${r}-w${w}-`));
      for (let i = 1; i < stream.length; i++) {
        expect(stream[i]!.received_at, `${stream[i - 1]!.title} then ${stream[i]!.title}`).toBeGreaterThan(stream[i - 1]!.received_at);
        checked++;
      }
      for (const k of [0, 1]) {
        const seqs = stream.filter((a) => a.title.startsWith(`r${r}-w${w}-s${k}-`)).map((a) => Number(a.title.split('-').at(-1)));
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      }
    }
  }
  expect(checked).toBeGreaterThan(100);
}, 180_000);
