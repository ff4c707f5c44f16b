// Not part of `npm test`: times one drain of 50 deliveries (createTicket, a three-field JSONata
// mapping), five times, and prints the median. Run: npx vitest run --config bench/vitest.drain50.config.ts
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeExpressionPool } from '../core/jsonata.ts';
import { createPool } from '../core/database.ts';
import { drainWebhook } from '../worker/dispatch.ts';
import { createTestDatabase, type TestDatabase } from '../test/support/db.ts';
import { makeTenant, makeWebhook } from '../test/support/server.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await closeExpressionPool();
  await db?.drop();
});

it('drains 50 deliveries', async () => {
  const tenant = await makeTenant(db.pool, 'bench');
  const hook = await makeWebhook(db.pool, 'bench', {
    name: 'b', slug: 'b', auth: { auth_type: 'hmac_sha256' },
    handler: { handler_type: 'direct_action', action: 'createTicket',
      field_mapping: { title: 'alert.title & " on " & alert.host', description: '$string(alert.detail)', external_id: '$string(alert.id)' } },
  });
  const pool = createPool(db.url, 4);
  const times: number[] = [];
  let clock = Date.now() - 600_000;
  for (let run = 0; run < 6; run++) {
    const batch = Array.from({ length: 50 }, (_, i) => {
      const body = { alert: { id: run * 100 + i, title: `Disk ${i}`, host: 'db-01', detail: { used: 0.97, mount: '/var' } } };
      return { tenant, inbound_webhook_id: hook.id, request_method: 'POST', request_path: '/b', request_headers: {},
        request_body: body, request_body_text: JSON.stringify(body), body_format: 'json', content_type: 'application/json',
        source_ip: '127.0.0.1', user_agent: 'bench', idempotency_key: null, received_at: new Date(++clock).toISOString() };
    });
    await db.pool.query(`select * from intake.receive_deliveries($1::jsonb)`, [JSON.stringify(batch)]);
    const started = performance.now();
    await drainWebhook(pool, tenant, hook.id, { jsonataTimeoutMs: 1000 });
    if (run > 0) times.push(performance.now() - started); // run 0 warms up (compiles, connects)
  }
  const { rows } = await db.pool.query(`select count(*)::int as n from intake.inbound_webhook_deliveries where dispatch_status = 'dispatched'`);
  expect(rows[0].n).toBe(300);
  times.sort((a, b) => a - b);
  console.log(`drain of 50: median ${times[2]!.toFixed(1)} ms of ${times.map((t) => t.toFixed(1)).join(', ')}`);
  await pool.end();
});
