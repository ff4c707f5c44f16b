// An unsigned flood at a webhook, through a trusted proxy (X-Forwarded-For): from a thousand
// addresses, each under the per-source limit so every request reaches the signature check, and
// from one address far over it. The real sender, signing, keeps getting 200 throughout: the
// strangers are refused (401 / 429) and never use up the webhook's own allowance, which counts
// verified requests only.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { makeTenant, makeWebhook, startTestServer, type TestServer } from '../support/server.ts';
import { percentile, recordRow, send } from './support.ts';

let db: TestDatabase;
let server: TestServer;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, {
    worker: false,
    env: { INTAKE_SOURCE_RATE_LIMIT_PER_MINUTE: '120', INTAKE_TRUSTED_PROXIES: '127.0.0.1' },
  });
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

it('the signed sender keeps getting 200 through an unsigned flood', async () => {
  await makeTenant(db.pool, 'flooded');
  // The webhook's own limit (300 a minute) is far below the flood (4000 requests): were the
  // flood counted against it, the real sender would be refused.
  const hook = await makeWebhook(db.pool, 'flooded', {
    name: 'Alerts', slug: 'alerts', auth: { auth_type: 'hmac_sha256' }, rate_limit_per_minute: 300,
    handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } },
  });
  const url = `${server.url}/api/inbound/flooded/alerts`;
  const run = `${process.pid}-${Date.now()}`; // the suite's Redis outlives runs: fresh addresses each run
  const floodTotal = 4000;
  let next = 0;
  const flood: number[] = [];
  let flooding = true;
  async function stranger() {
    while (next < floodTotal) {
      const n = next++;
      // 3000 requests from 1000 addresses (3 each), then 1000 from a single one
      const address = n < 3000 ? `10.${(n % 1000) >> 8}.${(n % 1000) & 255}.${Number(run.slice(-2)) % 200 + 1}` : `203.0.113.${Number(run.slice(-2)) % 200 + 1}`;
      const answer = await send(url, { title: `forged ${n}` }, null, { headers: { 'x-forwarded-for': address }, timeoutMs: 10_000 });
      flood.push(answer.status);
    }
  }
  const real: { status: number; ms: number }[] = [];
  async function sender() {
    let i = 0;
    while (flooding) {
      const answer = await send(url, { title: `real ${i++}` }, hook.secret, { headers: { 'x-forwarded-for': '198.51.100.7' }, timeoutMs: 10_000 });
      real.push(answer);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const senderDone = sender();
  const started = performance.now();
  await Promise.all(Array.from({ length: 32 }, stranger));
  const seconds = (performance.now() - started) / 1000;
  flooding = false;
  await senderDone;

  const count = (codes: number[], code: number) => codes.filter((c) => c === code).length;
  const realOk = count(real.map((r) => r.status), 200);
  const p99 = percentile(real.map((r) => r.ms), 99);
  const pass = realOk === real.length && real.length >= 10 && count(flood, 200) === 0;
  recordRow({
    scenario: '5. Unsigned flood (1001 fake XFF sources)',
    measured: "real signed sender's answers during the flood",
    numbers: `flood ${flood.length} in ${seconds.toFixed(1)} s: ${count(flood, 401)}×401, ${count(flood, 429)}×429, ${count(flood, 200)}×200; real: ${realOk}/${real.length} 200, p99 ${Math.round(p99)} ms`,
    pass,
  });
  expect(count(flood, 200)).toBe(0);
  // every address under the per-source limit reached the signature check and was refused there
  expect(count(flood, 401)).toBeGreaterThanOrEqual(3000);
  // the single loud address went over the per-source limit (120 a minute)
  expect(count(flood, 429)).toBeGreaterThanOrEqual(800);
  expect(real.length).toBeGreaterThanOrEqual(10);
  expect(real.map((r) => r.status)).toEqual(Array(real.length).fill(200));
  const { rows } = await db.pool.query(`select count(*)::int as n from intake.inbound_webhook_deliveries`);
  expect(rows[0].n).toBe(real.length);
});
