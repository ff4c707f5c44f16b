// SIGTERM under load: `intake start` (receiver and worker in one process) is sent SIGTERM while
// eight senders keep posting. It must exit 0 within its bound; every request it had read is
// answered (recorded → 200, or 503), so every delivery in the database was answered 200 to its
// sender; and after a fresh worker finishes what was left pending, every 200 is dispatched
// exactly once. The same process logs one JSON line per request with its request id, and never
// a path token or a credential.
import { inject } from 'vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { startIntake, type RunningIntake } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { actionWebhook } from './support/inbound.ts';
import { makeTenant, waitFor } from './support/server.ts';
import { send } from './faults/support.ts';

let db: TestDatabase;
const processes: RunningIntake[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const p of processes) await p.stop();
  await db?.drop();
});

const env = { PORT: '0', HOST: '127.0.0.1', REDIS_URL: inject('redisUrl'), INTAKE_SOURCE_RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'info', INTAKE_SHUTDOWN_TIMEOUT_MS: '15000' };

it('on SIGTERM under load answers what it read, exits 0 in its bound, and every 200 is dispatched exactly once', async () => {
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
