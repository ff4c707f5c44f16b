// The receiver and the worker at once, under overlapping load: every accepted request is
// dispatched, once, and each webhook's tickets follow its arrival order, while batches keep
// finding their webhook's drain job queued, locked or running. The exact cases of the receiver's
// job rule (intake.receive_deliveries) are pinned down one by one in worker.drain.test.ts, "which
// job a batch enqueues"; here a delivery no drain took would show as pending at the end only if
// no later batch's job took it either.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { actionWebhook, postSigned } from './support/inbound.ts';
import { makeTenant, startTestServer, waitFor, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { env: { INTAKE_WORKER_CONCURRENCY: '8' } });
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

it('24 senders to 3 webhooks while the worker drains: all dispatched, once, in arrival order', async () => {
  await makeTenant(db.pool, 'load');
  const slugs = ['h0', 'h1', 'h2'];
  const hooks = await Promise.all(slugs.map((slug) => actionWebhook(db.pool, 'load', slug, 'createTicket', { title: 'title' })));
  const total = 1500;
  let next = 0;
  const statuses: number[] = [];
  async function sender() {
    while (next < total) {
      const n = next++;
      const i = n % hooks.length;
      const answer = await postSigned(server.url, 'load', slugs[i]!, hooks[i]!.secret!, { title: `t${n}` });
      statuses.push(answer.status);
    }
  }
  await Promise.all(Array.from({ length: 24 }, sender));
  expect(statuses.filter((s) => s !== 200)).toEqual([]);

  await waitFor(async () => {
    const { rows } = await db.pool.query(`select count(*)::int as n from intake.inbound_webhook_deliveries where dispatch_status = 'pending'`);
    return rows[0].n === 0 ? true : undefined;
  }, 60_000, 'every delivery to be dispatched');
  const { rows: statusCounts } = await db.pool.query(`select dispatch_status, count(*)::int as n from intake.inbound_webhook_deliveries group by 1`);
  expect(statusCounts).toEqual([{ dispatch_status: 'dispatched', n: total }]);
  const { rows: tickets } = await db.pool.query(`select count(*)::int as n, count(distinct title)::int as titles from psa.tickets`);
  expect(tickets[0]).toEqual({ n: total, titles: total });

  for (const hook of hooks) {
    // The tenant's ticket numbers, in the webhook's arrival order, only go up.
    const { rows } = await db.pool.query(
      `select t.ticket_number from intake.inbound_webhook_deliveries d
         join psa.tickets t on t.tenant = d.tenant and t.ticket_id = (d.handler_outcome->>'ticket_id')::uuid
        where d.inbound_webhook_id = $1
        order by d.received_at, d.delivery_id`,
      [hook.id],
    );
    const numbers = rows.map((r) => Number(String(r.ticket_number).replace(/\D/g, '')));
    expect(numbers).toHaveLength(total / hooks.length);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
  }

  // The jobs that found their deliveries already drained end too.
  await waitFor(async () => {
    const { rows } = await db.pool.query(`select count(*)::int as n from graphile_worker.jobs where task_identifier like 'dispatch_%'`);
    return rows[0].n === 0 ? true : undefined;
  }, 60_000, 'every dispatch job to end');
}, 120_000);
