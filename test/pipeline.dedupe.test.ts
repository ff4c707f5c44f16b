// Idempotency end to end: concurrent repeats of one key record one delivery and one ticket; the
// window ends; a request without a key is never deduped.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookCreateInput } from '../core/webhookConfig.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant, makeWebhook, settledDelivery, startTestServer, waitFor, type TestServer } from './support/server.ts';

const TENANT = 'dedupe';
const alertmanager = JSON.parse(readFileSync(new URL('./fixtures/samples/alertmanager-alert.firing.json', import.meta.url), 'utf8')) as Record<string, unknown>;

let db: TestDatabase;
let server: TestServer;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  await makeTenant(db.pool, TENANT);
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

interface Answer {
  status: number;
  body: { delivery_id?: string; duplicate?: boolean; error?: string };
}

async function webhook(slug: string, extra: Partial<WebhookCreateInput> = {}) {
  const hook = await makeWebhook(db.pool, TENANT, {
    name: slug,
    slug,
    auth: { auth_type: 'hmac_sha256' },
    handler: { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: 'commonAnnotations.summary' } },
    ...extra,
  });
  return { slug, secret: hook.secret! };
}

async function send(hook: { slug: string; secret: string }, payload: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return sendText(hook, JSON.stringify(payload), headers);
}

/** The body exactly as given (JSON.stringify would round integers past 2^53). */
async function sendText(hook: { slug: string; secret: string }, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${server.url}/api/inbound/${TENANT}/${hook.slug}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-signature': createHmac('sha256', hook.secret).update(body).digest('hex'),
      ...headers,
    },
    body,
  });
  return { status: res.status, body: await res.json() };
}

async function deliveriesOf(slug: string) {
  const { rows } = await db.pool.query(
    `select d.* from intake.inbound_webhook_deliveries d
       join intake.inbound_webhooks w on w.tenant = d.tenant and w.inbound_webhook_id = d.inbound_webhook_id
      where w.slug = $1 order by d.received_at, d.delivery_id`,
    [slug],
  );
  return rows;
}

async function ticketCount(): Promise<number> {
  const { rows } = await db.pool.query(`select count(*)::int as n from psa.tickets`);
  return rows[0].n;
}

/** Waits until no delivery of the webhook is pending (the worker is done with it). */
async function allSettled(slug: string) {
  return waitFor(async () => {
    const rows = await deliveriesOf(slug);
    return rows.length > 0 && rows.every((r) => r.dispatch_status !== 'pending') ? rows : undefined;
  }, 15_000, `deliveries of ${slug} to settle`);
}

/** 20 identical requests at once: one is recorded, 19 answer as its duplicate. */
async function concurrentRepeats(hook: { slug: string; secret: string }, payload: unknown, headers: Record<string, string>) {
  const before = await ticketCount();
  const answers = await Promise.all(Array.from({ length: 20 }, () => send(hook, payload, headers)));

  expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
  const originals = answers.filter((a) => a.body.duplicate === undefined);
  const duplicates = answers.filter((a) => a.body.duplicate === true);
  expect(originals).toHaveLength(1);
  expect(duplicates).toHaveLength(19);
  const id = originals[0]!.body.delivery_id!;
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  expect(new Set(answers.map((a) => a.body.delivery_id))).toEqual(new Set([id]));

  const original = await settledDelivery(db.pool, id);
  expect(original.dispatch_status).toBe('dispatched');
  const rows = await allSettled(hook.slug);
  expect(rows).toHaveLength(20);
  const byStatus = (s: string) => rows.filter((r) => r.dispatch_status === s);
  expect(byStatus('dispatched').map((r) => r.delivery_id)).toEqual([id]);
  expect(byStatus('duplicate')).toHaveLength(19);
  for (const dup of byStatus('duplicate')) {
    expect(dup.duplicate_of).toBe(id);
    expect(dup.delivery_id).not.toBe(id);
    expect(dup.idempotency_key).toBe(original.idempotency_key);
  }
  // Once the queue is empty nothing more can run: exactly one ticket came of the 20 requests.
  await waitFor(async () => {
    const { rows: jobs } = await db.pool.query(`select count(*)::int as n from graphile_worker.jobs`);
    return jobs[0].n === 0 ? true : undefined;
  }, 10_000, 'the job queue to drain');
  expect(await ticketCount()).toBe(before + 1);
  return original;
}

describe('concurrent repeats of one idempotency key', () => {
  it('by header: 20 at once → one delivery, 19 duplicates, one ticket', async () => {
    const hook = await webhook('by-header', { idempotency: { type: 'header', value: 'x-idempotency-key' } });
    const original = await concurrentRepeats(hook, alertmanager, { 'x-idempotency-key': 'evt-42' });
    expect(original.idempotency_key).toBe('evt-42');
  });

  it('by JSONata (groupKey): 20 at once → one delivery, 19 duplicates, one ticket', async () => {
    const hook = await webhook('by-expr', { idempotency: { type: 'jsonata', value: 'groupKey' } });
    const original = await concurrentRepeats(hook, alertmanager, {});
    expect(original.idempotency_key).toBe(alertmanager.groupKey);
  });
});

describe('integer keys past 2^53', () => {
  it('two 64-bit alert ids one apart are two keys, digit for digit, and both dispatch', async () => {
    const hook = await webhook('bigint-key', { idempotency: { type: 'jsonata', value: 'alert.id' } });
    // 9007199254740993 rounds to 9007199254740992 as a JavaScript number.
    const first = await sendText(hook, '{"alert":{"id":9007199254740993},"commonAnnotations":{"summary":"a"}}');
    const second = await sendText(hook, '{"alert":{"id":9007199254740992},"commonAnnotations":{"summary":"b"}}');
    const third = await sendText(hook, '{"alert":{"id":-123456789012345678901},"commonAnnotations":{"summary":"c"}}');
    for (const answer of [first, second, third]) {
      expect(answer.status).toBe(200);
      expect(answer.body.duplicate).toBeUndefined();
    }
    const repeat = await sendText(hook, '{"alert":{"id":9007199254740993},"commonAnnotations":{"summary":"a"}}');
    expect(repeat.body).toEqual({ delivery_id: first.body.delivery_id, duplicate: true });
    const rows = await allSettled(hook.slug);
    const byId = new Map(rows.map((r) => [r.delivery_id, r]));
    expect(byId.get(first.body.delivery_id)!.idempotency_key).toBe('9007199254740993');
    expect(byId.get(second.body.delivery_id)!.idempotency_key).toBe('9007199254740992');
    expect(byId.get(third.body.delivery_id)!.idempotency_key).toBe('-123456789012345678901');
    expect(rows.map((r) => r.dispatch_status).sort()).toEqual(['dispatched', 'dispatched', 'dispatched', 'duplicate']);
    // A safe integer's key is unchanged: the text JSON gives it.
    const small = await sendText(hook, '{"alert":{"id":42},"commonAnnotations":{"summary":"d"}}');
    expect((await settledDelivery(db.pool, small.body.delivery_id!)).idempotency_key).toBe('42');
  });
});

describe('the idempotency window', () => {
  it('a repeat inside the window is a duplicate; after it, a new delivery that dispatches again', async () => {
    const hook = await webhook('short-window', {
      idempotency: { type: 'header', value: 'x-idempotency-key' },
      idempotency_window_seconds: 1,
    });
    const headers = { 'x-idempotency-key': 'window-key' };
    const before = await ticketCount();

    const first = await send(hook, alertmanager, headers);
    const started = Date.now();
    const repeat = await send(hook, alertmanager, headers);
    // The repeat must really have been inside the 1 s window for its answer to mean anything.
    expect(Date.now() - started).toBeLessThan(900);
    expect(first).toEqual({ status: 200, body: { delivery_id: expect.any(String) } });
    expect(repeat).toEqual({ status: 200, body: { delivery_id: first.body.delivery_id, duplicate: true } });
    expect((await settledDelivery(db.pool, first.body.delivery_id!)).dispatch_status).toBe('dispatched');

    await sleep(Math.max(0, 1200 - (Date.now() - started)));
    const later = await send(hook, alertmanager, headers);
    expect(later.status).toBe(200);
    expect(later.body.duplicate).toBeUndefined();
    expect(later.body.delivery_id).not.toBe(first.body.delivery_id);
    const second = await settledDelivery(db.pool, later.body.delivery_id!);
    expect(second.dispatch_status).toBe('dispatched');
    expect(second.duplicate_of).toBeNull();
    expect(second.idempotency_key).toBe('window-key');

    // Two dispatches, two tickets; the old delivery gave up the key, the new one holds it.
    const rows = await allSettled(hook.slug);
    expect(rows.map((r) => r.dispatch_status).sort()).toEqual(['dispatched', 'dispatched', 'duplicate']);
    expect(rows.filter((r) => r.dedupe_active).map((r) => r.delivery_id)).toEqual([later.body.delivery_id]);
    expect(await ticketCount()).toBe(before + 2);

    // And the new holder dedupes in its own window.
    const again = await send(hook, alertmanager, headers);
    expect(again.body).toEqual({ delivery_id: later.body.delivery_id, duplicate: true });
  });

  it('a request without the key header is never deduped', async () => {
    const hook = await webhook('no-key', { idempotency: { type: 'header', value: 'x-idempotency-key' } });
    const before = await ticketCount();
    const answers = await Promise.all([send(hook, alertmanager), send(hook, alertmanager), send(hook, alertmanager)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.every((a) => a.body.duplicate === undefined)).toBe(true);
    expect(new Set(answers.map((a) => a.body.delivery_id)).size).toBe(3);

    const rows = await allSettled(hook.slug);
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.idempotency_key).toBeNull();
      expect(row.dedupe_active).toBe(false);
      expect(row.dispatch_status).toBe('dispatched');
    }
    expect(await ticketCount()).toBe(before + 3);
  });
});

describe('a repeat while its original is being dispatched', () => {
  it('is answered at once, not after the drain that holds the original', async () => {
    const hook = await webhook('held', { idempotency: { type: 'header', value: 'x-event-id' } });
    const first = await send(hook, alertmanager, { 'x-event-id': 'held-1' });
    expect(first.status).toBe(200);
    // Lock the original as a worker's drain does, and keep the lock while the repeat arrives.
    const drain = await db.pool.connect();
    try {
      await drain.query('begin');
      await drain.query(`select 1 from intake.inbound_webhook_deliveries where delivery_id = $1 for no key update`, [first.body.delivery_id]);
      const repeat = await Promise.race([
        send(hook, alertmanager, { 'x-event-id': 'held-1' }),
        sleep(5_000).then(() => 'still waiting after 5 s' as const),
      ]);
      expect(repeat).toEqual({ status: 200, body: { delivery_id: first.body.delivery_id, duplicate: true } });
    } finally {
      await drain.query('rollback');
      drain.release();
    }
  });
});
