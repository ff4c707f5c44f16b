// Several processes on one database, as docs/scaling.md describes: two `intake receiver` and
// two `intake worker` processes, loopback, under load from senders spread over both receivers
// and three webhooks. Meanwhile `intake migrate` runs (a newer release's migrate while these
// still serve: it reloads every SQL function under them). Then: every delivery accepted (200)
// is dispatched exactly once; nothing is left pending; no request got a 5xx, also during the
// migrate; and one webhook's deliveries through one receiver took effect in arrival order
// (docs/architecture.md "Order": order holds per receiver process).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { runIntake, startIntake, type RunningIntake } from './support/cli.ts';
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

const env = { PORT: '0', HOST: '127.0.0.1', REDIS_URL: inject('redisUrl'), INTAKE_SOURCE_RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'warn', INTAKE_WORKER_CONCURRENCY: '4' };
const WEBHOOKS = ['a', 'b', 'c'];

it('two receivers and two workers: every 200 dispatched once, none pending, order per webhook per receiver, migrate under load', async () => {
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
  for (const p of [...receivers, ...workers]) expect(await p.stop()).toBe(0);

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
       join intake.inbound_webhook_deliveries d on d.tenant = t.tenant and d.request_body->>'title' = t.title
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
