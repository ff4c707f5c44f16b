// Records verified requests through intake.receive_deliveries(), batched (./batcher.ts).
import type pg from 'pg';
import { errorMessage } from '../core/log.ts';
import { createBatcher, type Pending } from './batcher.ts';

/** One verified request as intake.receive_deliveries() takes it. */
export interface DeliveryItem {
  tenant: string;
  inbound_webhook_id: string;
  /** given by the receiver on the first try, kept on every retry of this request */
  delivery_id: string;
  request_method: string;
  request_path: string;
  request_headers: Record<string, string>;
  request_body: unknown;
  request_body_text: string | null;
  body_format: string | null;
  content_type: string | null;
  source_ip: string | null;
  user_agent: string | null;
  idempotency_key: string | null;
  received_at: string;
  failure: string | null;
  failure_status: number | null;
  /** hex SHA-256 of the signature that verified it, where it covers a timestamp (receiver/app.ts): the same request again is a replay */
  replay_digest?: string | null;
  /**
   * The raw body text. For JSON bodies it is sent to SQL as the body itself (spliced into the
   * batch, not re-serialized): cheaper, and exact — Postgres keeps integers past 2^53 that
   * JSON.parse would round. Also the fallback text when jsonb refuses the body.
   */
  raw_text?: string;
  /** bytes of the body as received, its SHA-256 (hex) and head (receiver/app.ts bodyHead): kept on the row after the body is cut */
  body_size?: number;
  body_sha256?: string;
  body_head?: string;
}

export interface Recorded {
  delivery_id: string;
  duplicate: boolean;
  response_status: number;
  response_body: unknown;
  /**
   * No drain of the webhook can run before this item's transaction commits (it holds the drain
   * lock shared), so a later batch of the webhook may commit first (./batcher.ts "Commit order").
   */
  drain_held: boolean;
}

// A named statement: each connection parses and plans it once, not on every batch.
const RECEIVE = {
  name: 'intake-receive-deliveries',
  text: 'select item, delivery_id, duplicate, response_status, response_body, drain_held from intake.receive_deliveries($1::jsonb)',
};

function itemJson(item: DeliveryItem): string {
  const { raw_text, request_body, ...rest } = item;
  if (item.body_format === 'json' && raw_text !== undefined && item.failure === null) {
    return JSON.stringify(rest).slice(0, -1) + ',"request_body":' + raw_text + '}';
  }
  return JSON.stringify({ ...rest, request_body });
}

function toJson(items: DeliveryItem[]): string {
  return '[' + items.map(itemJson).join(',') + ']';
}

/**
 * Why one item could not be stored, when the error concerns its data rather than the database:
 * jsonb refuses some bodies JSON.parse accepts — \u0000 (22P05), unpaired surrogate escapes such
 * as a truncated emoji's "\ud83d" (22P02), numbers past numeric's range such as 1e200000
 * (22003), nesting deeper than the server's stack (54001) — and any other data exception (class
 * 22) or program limit (class 54) of one item alone is about that item too. Answering 5xx would
 * make the sender retry it forever, so such a request is recorded as failed (400) with the
 * reason and its raw text. Every other error (connections, resources, shutdown, timeouts) means
 * the database could not take it now: the caller answers 503.
 */
export function dataErrorReason(error: unknown): string | null {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return null;
  if (code === '22P05') return 'body contains \\u0000, which cannot be stored as JSON; the raw text is kept';
  if (code === '22P02' && /json/i.test(errorMessage(error))) {
    return 'body contains an unpaired UTF-16 surrogate escape, which cannot be stored as JSON; the raw text is kept';
  }
  if (code.startsWith('22') || code.startsWith('54')) return `body cannot be stored as JSON (${errorMessage(error)}); the raw text is kept`;
  return null;
}

export function createRecorder(pool: pg.Pool, options: { maxBatch: number; maxUncommitted: number }) {
  const resultsOf = (items: DeliveryItem[], rows: (Recorded & { item: number })[]): Recorded[] => {
    const results: Recorded[] = new Array(items.length);
    for (const row of rows) results[row.item - 1] = row;
    return results;
  };

  async function run(items: DeliveryItem[]): Promise<Recorded[]> {
    const { rows } = await pool.query({ ...RECEIVE, values: [toJson(items)] });
    return resultsOf(items, rows);
  }

  async function execute(items: DeliveryItem[]): Promise<Pending<Recorded>> {
    const client = await pool.connect();
    // A connection lost while checked out is also emitted as 'error' on the client (after the
    // query in flight has failed with it); unheard, that event would end the process.
    const lost = () => {};
    client.on('error', lost);
    const release = (error?: Error) => {
      client.off('error', lost);
      client.release(error);
    };
    try {
      await client.query('begin');
      const { rows } = await client.query({ ...RECEIVE, values: [toJson(items)] });
      return {
        results: resultsOf(items, rows),
        commit: async () => {
          try {
            await client.query('commit');
          } catch (error) {
            release(error as Error); // its state is unknown: do not reuse it
            throw error;
          }
          release();
        },
      };
    } catch (error) {
      await client.query('rollback').then(() => release(), (e: Error) => release(e));
      throw error;
    }
  }

  async function runOne(item: DeliveryItem): Promise<Recorded> {
    try {
      return (await run([item]))[0]!;
    } catch (error) {
      const reason = dataErrorReason(error);
      if (!reason) throw error;
      // Without the parsed body: only its text (NULs dropped: text cannot hold them either).
      const text = (item.raw_text ?? item.request_body_text ?? '').replaceAll('\u0000', '');
      const failed: DeliveryItem = { ...item, request_body: null, raw_text: undefined, request_body_text: text, failure: item.failure ?? reason, failure_status: item.failure_status ?? 400 };
      try {
        return (await run([failed]))[0]!;
      } catch (again) {
        // Still refused, so the data error was not (only) in the body: keep the reason alone.
        const last = dataErrorReason(again);
        if (!last) throw again;
        return (await run([{ ...failed, request_headers: {}, request_body_text: null, user_agent: null, body_head: '', failure: `request cannot be stored (${errorMessage(again)}); only this reason is kept` }]))[0]!;
      }
    }
  }

  async function settle(items: DeliveryItem[]): Promise<Recorded[] | null> {
    const { rows } = await pool.query<{ delivery_id: string; response_status: number; response_body: Record<string, unknown> }>(
      `select d.delivery_id, d.response_status, d.response_body
         from unnest($1::uuid[], $2::uuid[]) as i(tenant, delivery_id)
         join intake.inbound_webhook_deliveries d on d.tenant = i.tenant and d.delivery_id = i.delivery_id`,
      [items.map((i) => i.tenant), items.map((i) => i.delivery_id)],
    );
    // A commit is all or nothing: every item is there, or none is.
    if (rows.length !== items.length) return null;
    const byId = new Map(rows.map((r) => [r.delivery_id, r]));
    return items.map((item) => {
      const row = byId.get(item.delivery_id)!;
      return {
        delivery_id: (row.response_body.delivery_id as string | undefined) ?? row.delivery_id,
        duplicate: row.response_body.duplicate === true,
        response_status: row.response_status,
        response_body: row.response_body,
        drain_held: true, // committed: nothing left to hold
      };
    });
  }

  return createBatcher<DeliveryItem, Recorded>({
    ...options, run, execute, runOne, settle,
    keyOf: (item) => item.inbound_webhook_id,
    holdsOrder: (result) => result.drain_held,
  });
}

export type Recorder = ReturnType<typeof createRecorder>;
