// A worker killed between the action's commit and the job's completion: the job stays locked
// until a live worker sees that its worker is gone (worker/liveness.ts: seconds, not
// graphile-worker's 4 h), runs again, and the re-run finds the delivery dispatched and creates
// nothing. A delivery's retry job left locked by a dead worker is run again just as soon.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../core/env.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant, makeWebhook, startTestServer, testMasterKey, waitFor, type TestServer } from './support/server.ts';

let db: TestDatabase;
let receiver: TestServer;
let worker: TestServer | undefined;
beforeAll(async () => {
  db = await createTestDatabase();
  receiver = await startTestServer(db.url, { worker: false });
});
afterAll(async () => {
  await worker?.stop();
  await receiver?.stop();
  await db?.drop();
});

function runWorkerProcess(env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['cli/intake.ts', 'worker'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'error', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGTERM'), 20_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

async function tickets() {
  return (await db.pool.query(`select ticket_id, title from psa.tickets`)).rows;
}

it('a worker killed after the dispatch commit creates no second ticket', async () => {
  await makeTenant(db.pool, 'crash');
  const hook = await makeWebhook(db.pool, 'crash', {
    name: 'Alerts', slug: 'alerts', auth: { auth_type: 'hmac_sha256' },
    handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } },
  });
  const body = JSON.stringify({ title: 'Disk full on db-01' });
  const res = await fetch(`${receiver.url}/api/inbound/crash/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', hook.secret!).update(body).digest('hex') },
    body,
  });
  expect(res.status).toBe(200);
  const { delivery_id } = await res.json();

  // Before any worker: its first attempt waits for the webhook's dispatch_webhook job, enqueued
  // with it (one per webhook while it is queued; on no named queue: dispatch jobs run in
  // parallel). The "what is stuck" view shows the delivery beside that job.
  const webhookJobs = async () => (await db.pool.query(`select * from graphile_worker.jobs where task_identifier = 'dispatch_webhook'`)).rows;
  const queued = await webhookJobs();
  expect(queued).toHaveLength(1);
  expect(queued[0]).toMatchObject({ attempts: 0, max_attempts: 25, queue_name: null, key: `drain:${hook.id}`, locked_at: null, last_error: null });
  const { rows: stuck } = await db.pool.query(`select * from intake.undispatched_deliveries where delivery_id = $1`, [delivery_id]);
  expect(stuck).toHaveLength(1);
  expect(stuck[0]).toMatchObject({
    inbound_webhook_id: hook.id,
    webhook_slug: 'alerts',
    retry_count: 0,
    error_message: null,
    job_id: queued[0].id,
    job_queue: null,
    attempts: 0,
    max_attempts: 25,
    locked_at: null,
    last_error: null,
  });

  // A worker process that dies (SIGKILL) right after the dispatch transaction commits.
  const killed = await runWorkerProcess({
    DATABASE_URL: db.url,
    INTAKE_MASTER_KEY: testMasterKey,
    INTAKE_FAULT_KILL_AFTER_DISPATCH_COMMIT: '1',
  });
  expect(killed.signal, killed.stderr).toBe('SIGKILL');

  expect(await tickets()).toEqual([{ ticket_id: expect.any(String), title: 'Disk full on db-01' }]);
  const [ticket] = await tickets();
  const { rows: deliveries } = await db.pool.query(`select * from intake.inbound_webhook_deliveries where delivery_id = $1`, [delivery_id]);
  expect(deliveries[0]).toMatchObject({ dispatch_status: 'dispatched', retry_count: 0 });
  expect(deliveries[0].handler_outcome).toMatchObject({ action: 'createTicket', ticket_id: ticket!.ticket_id, created: true });
  // The job was never completed: still there, locked by the dead worker.
  const jobs = await webhookJobs();
  expect(jobs).toHaveLength(1);
  expect(jobs[0].id).toBe(queued[0].id);
  expect(jobs[0].attempts).toBe(1);
  expect(jobs[0].locked_at).not.toBeNull();
  expect(jobs[0].locked_by).toEqual(expect.any(String));
  // Dispatched, so no longer in the stuck view even though its job lingers.
  const { rows: stillStuck } = await db.pool.query(`select * from intake.undispatched_deliveries where delivery_id = $1`, [delivery_id]);
  expect(stillStuck).toEqual([]);

  // A healthy worker finds the job's worker gone, unlocks the job and runs it again: within
  // seconds (graphile-worker alone waits until the lock is 4 hours old).
  worker = await startTestServer(db.url, { receiver: false });
  await waitFor(async () => {
    const { rows } = await db.pool.query(`select 1 from graphile_worker.jobs where id = $1`, [jobs[0].id]);
    return rows.length === 0 ? true : undefined;
  }, 25_000, 'the re-run job to complete');

  expect(await tickets()).toEqual([ticket]);
  const { rows: after } = await db.pool.query(`select * from intake.inbound_webhook_deliveries where delivery_id = $1`, [delivery_id]);
  expect(after[0]).toMatchObject({ dispatch_status: 'dispatched', handler_outcome: deliveries[0].handler_outcome });
  expect(after[0].dispatched_at).toEqual(deliveries[0].dispatched_at);
}, 60_000);

it("a pending delivery's retry job locked by a worker that is gone runs again within seconds", async () => {
  await worker?.stop();
  worker = undefined;
  const hook = await makeWebhook(db.pool, 'crash', {
    name: 'Retries', slug: 'retries', auth: { auth_type: 'hmac_sha256' },
    handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } },
  });
  const body = JSON.stringify({ title: 'Retried after a crash' });
  const res = await fetch(`${receiver.url}/api/inbound/crash/retries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', hook.secret!).update(body).digest('hex') },
    body,
  });
  const { delivery_id } = await res.json();
  // What a worker killed (kill -9) during the delivery's second attempt leaves: its first attempt
  // failed inside a drain (retry_count 1; drains pass it by), and its own job is locked by a
  // worker whose process is gone.
  const tenant = (await db.pool.query(`select tenant from intake.inbound_webhook_deliveries where delivery_id = $1`, [delivery_id])).rows[0].tenant;
  await db.pool.query(`delete from graphile_worker._private_jobs where payload->>'inbound_webhook_id' = $1`, [hook.id]);
  await db.pool.query(
    `update intake.inbound_webhook_deliveries set retry_count = 1, error_message = 'attempt failed inside a drain of its webhook, will retry: reset'
      where delivery_id = $1`, [delivery_id]);
  await db.pool.query(`select intake_private.enqueue_dispatch($1, $2, $3)`, [tenant, delivery_id, hook.id]);
  await db.pool.query(
    `update graphile_worker._private_jobs set locked_at = now() - interval '1 minute', locked_by = 'worker-killed', attempts = 1
      where key = $1`, [`dispatch:${delivery_id}`]);

  const started = Date.now();
  worker = await startTestServer(db.url, { receiver: false });
  await waitFor(async () => {
    const { rows } = await db.pool.query(`select dispatch_status from intake.inbound_webhook_deliveries where delivery_id = $1`, [delivery_id]);
    return rows[0].dispatch_status === 'dispatched' ? true : undefined;
  }, 25_000, 'the delivery to be dispatched');
  expect(Date.now() - started).toBeLessThan(60_000);
  const { rows } = await db.pool.query(`select retry_count from intake.inbound_webhook_deliveries where delivery_id = $1`, [delivery_id]);
  expect(rows[0].retry_count).toBe(1); // its second attempt, the first one's job counted
}, 60_000);
