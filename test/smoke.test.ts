import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant, makeWebhook, settledDelivery, startTestServer, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

it('turns a signed alert into a ticket', async () => {
  await makeTenant(db.pool, 'acme');
  const hook = await makeWebhook(db.pool, 'acme', {
    name: 'Alerts', slug: 'alerts', auth: { auth_type: 'hmac_sha256' },
    handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'title' } },
  });
  const body = JSON.stringify({ title: 'Disk full' });
  const res = await fetch(`${server.url}/api/inbound/acme/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', hook.secret!).update(body).digest('hex') },
    body,
  });
  expect(res.status).toBe(200);
  const { delivery_id } = await res.json();
  const delivery = await settledDelivery(db.pool, delivery_id);
  expect(delivery.dispatch_status).toBe('dispatched');
  const { rows } = await db.pool.query('select title from psa.tickets');
  expect(rows).toEqual([{ title: 'Disk full' }]);
});
