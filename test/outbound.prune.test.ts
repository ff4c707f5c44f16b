// Retention of outbound events and attempts (the outbound_prune cron task): old attempts and old
// events that have nothing pending go, in bounded batches (each statement deletes at most the
// batch), and 0 days keeps everything.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pruneOutbound } from '../worker/tasks/outbound_prune.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant } from './support/server.ts';

let db: TestDatabase;
let tenant: string;

beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await makeTenant(db.pool, 'acme');
});
afterAll(async () => {
  await db?.drop();
});

it('deletes what is past retention in batches, and keeps what is pending or recent', async () => {
  const { rows: [sub] } = await db.pool.query(`insert into intake.outbound_subscriptions (tenant, url, event_types) values ($1, 'https://example.com/h', '{*}') returning subscription_id`, [tenant]);
  await db.pool.query(`insert into psa.clients (tenant, client_name) select $1, 'C' || n from generate_series(1, 7) n`, [tenant]);
  const { rows: events } = await db.pool.query(`select event_id from intake.outbound_events where tenant = $1 order by created_at`, [tenant]);
  // every event fanned out to the subscription with one attempt; the first six are 40 days old
  for (const [i, e] of events.entries()) {
    const old = i < 6;
    const { rows: [d] } = await db.pool.query(
      `insert into intake.outbound_deliveries (tenant, event_id, subscription_id, event_type, status, created_at)
       values ($1, $2, $3, 'client.created', $4, now() - $5::interval) returning delivery_id`,
      [tenant, e.event_id, sub.subscription_id, i === 5 ? 'pending' : 'succeeded', old ? '40 days' : '0'],
    );
    await db.pool.query(
      `insert into intake.outbound_attempts (tenant, delivery_id, subscription_id, attempt_number, started_at, request_url, request_headers, succeeded)
       values ($1, $2, $3, 1, now() - $4::interval, 'https://example.com/h', '{}', true)`,
      [tenant, d.delivery_id, sub.subscription_id, old ? '40 days' : '0'],
    );
    await db.pool.query(`update intake.outbound_events set created_at = now() - $2::interval, fanout_enqueued_at = now(), fanned_out_at = now() where event_id = $1`, [e.event_id, old ? '40 days' : '0']);
  }
  expect(await pruneOutbound(db.pool, { eventRetentionDays: 0, attemptRetentionDays: 0, pruneBatch: 2 })).toEqual({ attempts: 0, events: 0 });
  const pruned = await pruneOutbound(db.pool, { eventRetentionDays: 30, attemptRetentionDays: 30, pruneBatch: 2 });
  // six old attempts; five old events (the sixth has a pending delivery)
  expect(pruned).toEqual({ attempts: 6, events: 5 });
  const { rows: [left] } = await db.pool.query(
    `select (select count(*)::int from intake.outbound_events where tenant = $1) as events,
            (select count(*)::int from intake.outbound_deliveries where tenant = $1) as deliveries,
            (select count(*)::int from intake.outbound_attempts where tenant = $1) as attempts`, [tenant]);
  expect(left).toEqual({ events: 2, deliveries: 2, attempts: 1 });
});
