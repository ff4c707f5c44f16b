// Redis paused (SIGSTOP) under a webhook with a rate limit: every rate-limit check hits the
// frozen server, times out (INTAKE_REDIS_COMMAND_TIMEOUT_MS) and fails open, so each request
// is still answered 200 within the deadline; after SIGCONT requests keep being answered.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { makeTenant, makeWebhook, startTestServer, type TestServer } from '../support/server.ts';
import { percentile, recordRow, send, startRedis } from './support.ts';

let db: TestDatabase;
let redis: Awaited<ReturnType<typeof startRedis>>;
let server: TestServer;
beforeAll(async () => {
  db = await createTestDatabase();
  redis = await startRedis();
  server = await startTestServer(db.url, {
    worker: false,
    env: { REDIS_URL: redis.url, INTAKE_REDIS_COMMAND_TIMEOUT_MS: '300', INTAKE_REDIS_CONNECT_TIMEOUT_MS: '1000' },
  });
});
afterAll(async () => {
  redis?.stop();
  await server?.stop();
  await db?.drop();
});

it('answers every request within the deadline while Redis is frozen, and after it thaws', async () => {
  await makeTenant(db.pool, 'frozen');
  const hook = await makeWebhook(db.pool, 'frozen', {
    name: 'Alerts', slug: 'alerts', auth: { auth_type: 'hmac_sha256' }, rate_limit_per_minute: 1000,
    handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } },
  });
  const url = `${server.url}/api/inbound/frozen/alerts`;
  const burst = async (label: string, n: number) => {
    const answers = [];
    for (let i = 0; i < n; i += 4) answers.push(...(await Promise.all([0, 1, 2, 3].map((j) => send(url, { title: `${label} ${i + j}` }, hook.secret, { timeoutMs: 5000 })))));
    return answers;
  };

  const before = await burst('before', 20);
  redis.child.kill('SIGSTOP');
  let during;
  try {
    await sleep(100);
    during = await burst('frozen', 40);
  } finally {
    redis.child.kill('SIGCONT');
  }
  await sleep(500);
  const after = await burst('after', 20);

  const limit = 1500; // the command timeout (300 ms) and room for a busy machine
  const frozenOk = during.filter((a) => a.status === 200).length;
  const frozenMax = Math.max(...during.map((a) => a.ms));
  const afterOk = after.filter((a) => a.status === 200).length;
  const pass = before.every((a) => a.status === 200) && frozenOk === during.length && frozenMax < limit && afterOk === after.length;
  recordRow({
    scenario: '2. Redis paused (SIGSTOP)',
    measured: 'answers while frozen (fail open), and after SIGCONT',
    numbers: `frozen: ${frozenOk}/${during.length} 200, p50 ${Math.round(percentile(during.map((a) => a.ms), 50))} ms, max ${Math.round(frozenMax)} ms (limit ${limit}); after: ${afterOk}/${after.length} 200`,
    pass,
  });
  expect(before.map((a) => a.status)).toEqual(Array(before.length).fill(200));
  expect(during.map((a) => a.status)).toEqual(Array(during.length).fill(200));
  expect(frozenMax).toBeLessThan(limit);
  expect(after.map((a) => a.status)).toEqual(Array(after.length).fill(200));
  // Every answered request was recorded, frozen or not.
  const { rows } = await db.pool.query(`select count(*)::int as n from intake.inbound_webhook_deliveries`);
  expect(rows[0].n).toBe(80);
});
