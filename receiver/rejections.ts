// The rejection log (intake.inbound_webhook_auth_rejections), written behind the answer: a
// rejected request is answered at once, whatever the reason, and its row is written by one
// background INSERT per batch. No request path awaits it, so a 401 for an unknown webhook and
// one for a bad signature take the same time, and a flood of strangers costs at most one
// INSERT in flight and a bounded queue; past it, rejections are counted and dropped (the log
// says how many) rather than held in memory. Identical rejections of one batch (same tenant,
// webhook, slug, status, reason, address, user agent) become one row with repeat_count, and a
// batch is written at most every flushIntervalMs, so a flood costs a row per distinct rejection
// per interval. Rows past INTAKE_REJECTION_RETENTION_DAYS are deleted by the worker's
// prune_auth_rejections cron task (worker/tasks/prune_auth_rejections.ts).
import type pg from 'pg';
import { errorMessage, log } from '../core/log.ts';

export type RejectionKind =
  | 'rejected_signature'
  | 'rejected_bearer'
  | 'rejected_ip'
  | 'rejected_no_auth'
  | 'unknown_webhook'
  | 'inactive_webhook';

export interface RejectionEntry {
  /**
   * null: no tenant to record it under (an unknown tenant, or one whose inbound webhooks are off).
   * Such a refusal goes through the same queue, so it costs the request what any other costs,
   * and becomes a count in the log instead of a row.
   */
  tenant: string | null;
  inbound_webhook_id: string | null;
  webhook_slug: string;
  auth_status: RejectionKind;
  reason: string;
  request_method: string;
  source_ip: string | null;
  user_agent: string | null;
  received_at: string;
}

export interface RejectionLog {
  /** Queues one rejection; never waits and never throws. */
  add(entry: RejectionEntry): void;
  /** Resolves once everything queued so far has been written (or failed). */
  flush(): Promise<void>;
  /** Writes what is queued. */
  close(): Promise<void>;
}

export interface RejectionLogOptions {
  maxQueued: number;
  /** the wait before a batch is written, so a burst's repeats share one row */
  flushIntervalMs: number;
}

/** Identical rejections of a batch as one row each: count, first and last arrival. */
function aggregate(batch: RejectionEntry[]) {
  const rows = new Map<string, RejectionEntry & { repeat_count: number; last_received_at: string }>();
  for (const entry of batch) {
    const { received_at, ...same } = entry;
    const key = JSON.stringify(same);
    const row = rows.get(key);
    if (!row) rows.set(key, { ...entry, repeat_count: 1, last_received_at: received_at });
    else {
      row.repeat_count++;
      if (received_at < row.received_at) row.received_at = received_at;
      if (received_at > row.last_received_at) row.last_received_at = received_at;
    }
  }
  return [...rows.values()];
}

const MAX_BATCH = 500;

/** Text as Postgres can store it, and no longer than a log line needs: strangers choose it. */
function clip(text: string, max: number): string {
  const clean = text.replaceAll('\u0000', '');
  return clean.length > max ? clean.slice(0, max) : clean;
}

export function createRejectionLog(pool: pg.Pool, options: RejectionLogOptions): RejectionLog {
  let queue: RejectionEntry[] = [];
  let dropped = 0;
  let writing: Promise<void> | null = null;

  // What was queued when the interval ended, being written: only that. Rejections that arrive
  // while it is written wait for the next interval, so a flood costs a row per distinct
  // rejection per interval, not one per INSERT round trip.
  let taking: RejectionEntry[] = [];

  async function write(): Promise<void> {
    taking = queue;
    queue = [];
    while (taking.length > 0) {
      const taken = taking.slice(0, MAX_BATCH);
      taking = taking.slice(taken.length);
      const batch = taken.filter((entry) => entry.tenant !== null);
      const untenanted = taken.filter((entry) => entry.tenant === null);
      if (untenanted.length > 0) {
        log.info('inbound: refused requests for unknown tenants or tenants whose inbound webhooks are off', {
          count: untenanted.length, first: { reason: untenanted[0]!.reason, source_ip: untenanted[0]!.source_ip },
        });
      }
      try {
        if (batch.length > 0) await pool.query(
          `insert into intake.inbound_webhook_auth_rejections
             (tenant, inbound_webhook_id, webhook_slug, auth_status, reason, request_method, source_ip, user_agent, received_at,
              repeat_count, last_received_at)
           select r.tenant, w.inbound_webhook_id, r.webhook_slug, r.auth_status, r.reason, r.request_method, r.source_ip, r.user_agent, r.received_at,
                  r.repeat_count, r.last_received_at
             from jsonb_to_recordset($1::jsonb) as r(tenant uuid, inbound_webhook_id uuid, webhook_slug text, auth_status text, reason text,
                                                     request_method text, source_ip inet, user_agent text, received_at timestamptz,
                                                     repeat_count int, last_received_at timestamptz)
             -- a tenant or webhook deleted since the request cannot fail the batch
             join psa.tenants t on t.tenant = r.tenant
             left join intake.inbound_webhooks w on w.tenant = r.tenant and w.inbound_webhook_id = r.inbound_webhook_id`,
          [JSON.stringify(aggregate(batch))],
        );
      } catch (error) {
        log.warn('could not record auth rejections', { count: batch.length, error: errorMessage(error) });
      }
      if (dropped > 0) {
        log.warn('auth rejections dropped: more arrived than could be recorded', { count: dropped });
        dropped = 0;
      }
    }
  }

  function start(): void {
    if (writing) return;
    // Started on the next turn of the event loop, so the rejections of one burst share a batch.
    writing = new Promise<void>((resolve) => setTimeout(resolve, options.flushIntervalMs))
      .then(write)
      .finally(() => {
        writing = null;
        if (queue.length > 0) start();
      });
  }

  return {
    async close() {
      while (writing) await writing;
    },
    add(entry) {
      if (queue.length + taking.length >= options.maxQueued) {
        dropped++;
        return;
      }
      queue.push({
        ...entry,
        webhook_slug: clip(entry.webhook_slug, 200),
        reason: clip(entry.reason, 1000),
        user_agent: entry.user_agent === null ? null : clip(entry.user_agent, 500),
      });
      start();
    },
    async flush() {
      while (writing) await writing;
    },
  };
}
