// A worker process killed with SIGKILL in the middle of draining a backlog, then started
// again: the dead process's locked jobs are found (worker/liveness.ts) and run again, each drain
// re-checks under its lock what is still pending, so every delivery ends dispatched with exactly
// one ticket: nothing lost, nothing doubled.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { actionWebhook } from '../support/inbound.ts';
import { makeTenant, startTestServer, waitFor, type TestServer } from '../support/server.ts';
import { recordRow, send, spawnWorker } from './support.ts';

let db: TestDatabase;
let receiver: TestServer;
const workers: ReturnType<typeof spawnWorker>[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startTestServer(db.url, { worker: false });
});
afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await receiver?.stop();
  await db?.drop();
});

it('a worker killed mid-drain and restarted loses and doubles nothing', async () => {
  await makeTenant(db.pool, 'killed');
  const slugs = ['w0', 'w1', 'w2'];
  const hooks = await Promise.all(slugs.map((slug) => actionWebhook(db.pool, 'killed', slug, 'createTicket', { title: 'title' })));
  // The backlog, received while no worker runs.
  const total = 1500;
  let next = 0;
  const accepted: string[] = [];
  async function sender() {
    while (next < total) {
      const n = next++;
      const answer = await send(`${receiver.url}/api/inbound/killed/${slugs[n % 3]}`, { title: `t${n}` }, hooks[n % 3]!.secret);
      if (answer.status === 200) accepted.push(answer.body.delivery_id);
    }
  }
  await Promise.all(Array.from({ length: 16 }, sender));
  expect(accepted).toHaveLength(total);

  const tickets = async () => (await db.pool.query(`select count(*)::int as n from psa.tickets`)).rows[0].n as number;
  const first = spawnWorker(db.url, { INTAKE_WORKER_CONCURRENCY: '8' });
  workers.push(first);
  const atKill = await waitFor(async () => {
    const n = await tickets();
    return n >= total / 10 ? n : undefined;
  }, 30_000, 'the worker to be draining');
  first.child.kill('SIGKILL');
  const { signal } = await first.exited;
  const afterKill = await tickets();
  const { rows: lockedRows } = await db.pool.query(`select count(*)::int as n from graphile_worker.jobs where locked_at is not null`);

  const restarted = performance.now();
  const second = spawnWorker(db.url, { INTAKE_WORKER_CONCURRENCY: '8' });
  workers.push(second);
  await waitFor(async () => {
    const { rows } = await db.pool.query(
      `select (select count(*) from intake.inbound_webhook_deliveries where dispatch_status = 'pending')::int as pending,
              (select count(*) from graphile_worker.jobs where task_identifier like 'dispatch_%')::int as jobs`,
    );
    return rows[0].pending === 0 && rows[0].jobs === 0 ? true : undefined;
  }, 60_000, 'the restarted worker to finish the backlog and its jobs');
  const recoverySeconds = (performance.now() - restarted) / 1000;

  const { rows: statuses } = await db.pool.query(
    `select dispatch_status, count(*)::int as n from intake.inbound_webhook_deliveries where delivery_id = any($1::uuid[]) group by 1`,
    [accepted],
  );
  const { rows: made } = await db.pool.query(
    `select count(*)::int as n, count(distinct title)::int as titles,
            (select count(distinct handler_outcome->>'ticket_id') from intake.inbound_webhook_deliveries)::int as outcomes
       from psa.tickets`,
  );
  const midDrain = signal === 'SIGKILL' && afterKill < total;
  const pass = midDrain && made[0].n === total && made[0].titles === total && made[0].outcomes === total && statuses.length === 1 && statuses[0].dispatch_status === 'dispatched';
  recordRow({
    scenario: '3. Worker SIGKILL mid-drain, restarted',
    measured: 'tickets per accepted delivery after the restart',
    numbers: `${total} accepted; killed at ${afterKill} tickets (${lockedRows[0].n} jobs left locked); after restart ${made[0].n} tickets, ${made[0].titles} distinct, all dispatched in ${recoverySeconds.toFixed(1)} s`,
    pass,
  });
  expect(signal).toBe('SIGKILL');
  expect(atKill).toBeLessThan(total); // killed while deliveries were still pending
  expect(afterKill).toBeLessThan(total);
  expect(statuses).toEqual([{ dispatch_status: 'dispatched', n: total }]);
  expect(made[0]).toEqual({ n: total, titles: total, outcomes: total });
}, 120_000);
