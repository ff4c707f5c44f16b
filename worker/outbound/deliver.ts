// One attempt of each outbound delivery of a job (the outbound_deliver task: a fan-out's batch,
// or one delivery's retry): read the deliveries, their event and subscription and the live
// signing secrets in one query; POST each event's payload signed per Standard Webhooks through
// the SSRF-guarded agent, all at once; then, in one statement
// (intake_private.record_outbound_attempts), record the attempts, move each delivery on (succeeded, failed, or its next attempt scheduled with run_at) and update the
// subscription's health (a 410 disables it, and so do INTAKE_OUTBOUND_DISABLE_AFTER_HOURS of
// failures without a success). No transaction is open while the request is in flight.
// Runs as the owner (the secrets are in intake_private), filtering by tenant explicitly.
import type pg from 'pg';
import { request, type Dispatcher } from 'undici';
import { aesGcmBox } from '../../core/crypto.ts';
import { errorMessage, log } from '../../core/log.ts';
import { countOutboundAttempt } from '../../core/metrics.ts';
import { ipLiteralOf, refusalFor, RefusedAddressError, type Cidr } from '../../core/outboundAddress.ts';
import { subscriptionSecretContext } from '../../core/outboundSubscriptions.ts';
import { signedHeaders } from '../../core/standardWebhooks.ts';
import { MAX_ATTEMPTS, nextDelayMs } from './schedule.ts';

/** What is kept of a response body. */
export const RESPONSE_BODY_LIMIT = 20 * 1024;
export const USER_AGENT = 'Intake-Webhooks/1.0';

export interface OutboundDeliverOptions {
  masterKey: Buffer;
  /** the SSRF-guarded agent (core/outboundAddress.ts guardedAgent) */
  agent: Dispatcher;
  allowCidrs: readonly Cidr[];
  allowHttp: boolean;
  timeoutMs: number;
  disableAfterHours: number;
  /** for tests of the jitter; Math.random otherwise */
  random?: () => number;
}

/** One attempt's result, for the metrics the lead wires at merge (observeOutboundAttempts). */
export interface OutboundAttemptResult {
  tenant: string;
  subscriptionId: string;
  eventType: string;
  outcome: 'succeeded' | 'failed' | 'timeout' | 'refused' | 'error';
  status: number | null;
  durationMs: number;
}

let attemptObserver: ((result: OutboundAttemptResult) => void) | null = null;

/** The metrics hook: called once per attempt with its result (one observer; null removes it). */
export function observeOutboundAttempts(observer: ((result: OutboundAttemptResult) => void) | null): void {
  attemptObserver = observer;
}

interface DeliveryState {
  delivery_id: string;
  status: string;
  attempt_count: number;
  event_id: string;
  event_type: string;
  subscription_id: string;
  payload: unknown;
  is_test: boolean;
  url: string;
  headers: Record<string, string>;
  is_active: boolean;
  disabled_reason: string | null;
  rate_limit_per_minute: number | null;
  recent_attempts: number;
  secrets: Buffer[];
}

async function readStates(pool: pg.Pool, tenant: string, deliveryIds: readonly string[]): Promise<DeliveryState[]> {
  const { rows } = await pool.query<DeliveryState>(
    `select d.delivery_id, d.status, d.attempt_count, d.event_id, d.event_type, d.subscription_id, e.payload, e.is_test,
            s.url, s.headers, s.is_active, s.disabled_reason, s.rate_limit_per_minute,
            case when s.rate_limit_per_minute is null then 0
                 else (select count(*)::int from intake.outbound_attempts a
                        where a.tenant = d.tenant and a.subscription_id = d.subscription_id
                          and a.started_at > now() - interval '1 minute') end as recent_attempts,
            array(select x.secret from intake_private.outbound_subscription_secrets x
                   where x.tenant = d.tenant and x.subscription_id = d.subscription_id
                     and (x.expires_at is null or x.expires_at > now())
                   order by x.created_at desc) as secrets
       from intake.outbound_deliveries d
       join intake.outbound_events e on e.tenant = d.tenant and e.event_id = d.event_id
       join intake.outbound_subscriptions s on s.tenant = d.tenant and s.subscription_id = d.subscription_id
      where d.tenant = $1 and d.delivery_id = any($2::uuid[])`,
    [tenant, deliveryIds],
  );
  return rows;
}

interface Sent {
  startedAt: Date;
  durationMs: number;
  requestHeaders: Record<string, string>;
  status: number | null;
  responseHeaders: Record<string, string | string[]> | null;
  responseBody: string | null;
  error: string | null;
  timedOut: boolean;
  refused: boolean;
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= RESPONSE_BODY_LIMIT) {
      body.destroy();
      break;
    }
  }
  // Postgres text cannot hold NUL; a receiver's binary answer is kept without them
  return Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8').replaceAll('\u0000', '');
}

function isTimeout(error: unknown): boolean {
  const e = error as { name?: string; code?: string };
  return e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT'
    || e?.code === 'UND_ERR_BODY_TIMEOUT' || e?.code === 'UND_ERR_CONNECT_TIMEOUT';
}

/** The address refusal at the bottom of an error's causes, if that is what it was. */
function refusedCause(error: unknown): RefusedAddressError | null {
  for (let e = error as { cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e instanceof RefusedAddressError) return e;
  }
  return null;
}

export async function sendSigned(
  url: string, body: string, headers: Record<string, string>, options: Pick<OutboundDeliverOptions, 'agent' | 'allowCidrs' | 'allowHttp' | 'timeoutMs'>,
): Promise<Sent> {
  const startedAt = new Date();
  const started = performance.now();
  const done = (part: Partial<Sent>): Sent => ({
    startedAt, durationMs: Math.round(performance.now() - started), requestHeaders: headers, status: null, responseHeaders: null,
    responseBody: null, error: null, timedOut: false, refused: false, ...part,
  });
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return done({ error: `not a URL: ${url}`, refused: true });
  }
  if (target.protocol !== 'https:' && !(target.protocol === 'http:' && options.allowHttp)) {
    return done({ error: `refused: ${target.protocol} is not allowed (https only unless INTAKE_OUTBOUND_ALLOW_HTTP)`, refused: true });
  }
  // An IP literal never goes through lookup: check it before dialling.
  const literal = ipLiteralOf(target);
  if (literal !== null) {
    const why = refusalFor(literal, options.allowCidrs);
    if (why) return done({ error: `refused: ${why}`, refused: true });
  }
  try {
    const res = await request(target, {
      method: 'POST',
      headers,
      body,
      dispatcher: options.agent,
      signal: AbortSignal.timeout(options.timeoutMs),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    const responseBody = await readLimited(res.body as never);
    const responseHeaders: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) responseHeaders[k] = v;
    return done({ status: res.statusCode, responseHeaders, responseBody });
  } catch (error) {
    const refused = refusedCause(error);
    if (refused) return done({ error: refused.message, refused: true });
    if (isTimeout(error)) return done({ error: `timed out after ${options.timeoutMs / 1000} s`, timedOut: true });
    const e = error as { code?: string };
    return done({ error: errorMessage(error) + (e?.code && !errorMessage(error).includes(e.code) ? ` (${e.code})` : '') });
  }
}

export type DeliverOutcome = 'gone' | 'not_pending' | 'disabled' | 'rate_limited' | 'succeeded' | 'retrying' | 'failed';

type Trigger = 'scheduled' | 'manual' | 'test';

/** One attempt of a delivery and what follows from it. Safe to run again: a delivery no longer pending is left alone. */
export async function deliverOutbound(pool: pg.Pool, tenant: string, deliveryId: string, trigger: Trigger, options: OutboundDeliverOptions): Promise<DeliverOutcome> {
  return (await deliverOutboundBatch(pool, tenant, [deliveryId], trigger, options)).get(deliveryId) ?? 'gone';
}

/**
 * One attempt of each delivery of a job (a fan-out's batch, or one delivery's retry): their
 * states read in one query, the requests sent at once, the attempts recorded in one statement.
 */
export async function deliverOutboundBatch(
  pool: pg.Pool, tenant: string, deliveryIds: readonly string[], trigger: Trigger, options: OutboundDeliverOptions,
): Promise<Map<string, DeliverOutcome>> {
  const outcomes = new Map<string, DeliverOutcome>();
  const states = await readStates(pool, tenant, deliveryIds);
  const toSend: DeliveryState[] = [];
  const disabled: DeliveryState[] = [];
  for (const state of states) {
    if (state.status !== 'pending') outcomes.set(state.delivery_id, 'not_pending');
    else if (!state.is_active && !state.is_test) disabled.push(state);
    else if (state.rate_limit_per_minute !== null && state.recent_attempts >= state.rate_limit_per_minute && !state.is_test) {
      // over the subscription's limit: not an attempt; its job comes back when a slot is likely free
      const waitMs = Math.ceil(60_000 / state.rate_limit_per_minute) + Math.floor((options.random ?? Math.random)() * 1000);
      await pool.query(
        `with d as (update intake.outbound_deliveries set next_attempt_at = now() + make_interval(secs => $3::float8 / 1000)
                     where tenant = $1 and delivery_id = $2 returning next_attempt_at)
         select intake_private.enqueue_outbound_delivery($1, $2, d.next_attempt_at, $4) from d`,
        [tenant, state.delivery_id, waitMs, trigger],
      );
      outcomes.set(state.delivery_id, 'rate_limited');
    } else toSend.push(state);
  }
  if (disabled.length > 0) {
    await pool.query(
      `update intake.outbound_deliveries d set status = 'failed', next_attempt_at = null, last_error = x.why
         from unnest($2::uuid[], $3::text[]) x (id, why)
        where d.tenant = $1 and d.delivery_id = x.id and d.status = 'pending'`,
      [tenant, disabled.map((s) => s.delivery_id), disabled.map((s) => `not sent: the subscription is disabled${s.disabled_reason ? ` (${s.disabled_reason})` : ''}`)],
    );
    for (const s of disabled) outcomes.set(s.delivery_id, 'disabled');
  }
  if (toSend.length === 0) return outcomes;

  const box = aesGcmBox(options.masterKey);
  const attempted = await Promise.all(toSend.map(async (state) => {
    const context = subscriptionSecretContext(tenant, state.subscription_id);
    const secrets = state.secrets.map((sealed) => box.open(sealed, context));
    const body = JSON.stringify(state.payload);
    const headers: Record<string, string> = {
      ...state.headers,
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      ...signedHeaders(secrets, state.event_id, Math.floor(Date.now() / 1000), body),
    };
    const sent = await sendSigned(state.url, body, headers, options);
    const attemptNumber = state.attempt_count + 1;
    const succeeded = sent.status !== null && sent.status >= 200 && sent.status < 300;
    const gone = sent.status === 410;
    const error = succeeded ? null : sent.error ?? (sent.status !== null && sent.status >= 300 && sent.status < 400
      ? `HTTP ${sent.status}: redirects are not followed (the subscription's URL should be the final one)`
      : `HTTP ${sent.status}`);
    const delay = succeeded || gone ? null : nextDelayMs(
      { attemptNumber, timedOut: sent.timedOut, status: sent.status, retryAfter: headerValue(sent.responseHeaders, 'retry-after') },
      options.random,
    );
    const outcome: DeliverOutcome = succeeded ? 'succeeded' : delay === null ? 'failed' : 'retrying';
    return {
      state, sent, outcome, attemptNumber,
      record: {
        delivery_id: state.delivery_id, status: outcome === 'retrying' ? 'pending' : outcome, delay_ms: delay ?? 0, is_test: state.is_test, gone,
        attempt: {
          subscription_id: state.subscription_id, attempt_number: attemptNumber, trigger: state.is_test ? 'test' : trigger,
          started_at: sent.startedAt.toISOString(), duration_ms: sent.durationMs, request_url: state.url, request_headers: headers,
          response_status: sent.status, response_headers: sent.responseHeaders, response_body: sent.responseBody, error_message: error, succeeded,
        },
      },
    };
  }));
  await pool.query('select intake_private.record_outbound_attempts($1, $2, $3)', [tenant, JSON.stringify(attempted.map((a) => a.record)), options.disableAfterHours]);

  for (const { state, sent, outcome, attemptNumber } of attempted) {
    outcomes.set(state.delivery_id, outcome);
    countOutboundAttempt(outcome === 'succeeded' ? 'success' : sent.refused ? 'refused' : sent.timedOut ? 'timeout' : sent.status === null ? 'network_error' : 'http_error');
    try {
      attemptObserver?.({
        tenant, subscriptionId: state.subscription_id, eventType: state.event_type,
        outcome: outcome === 'succeeded' ? 'succeeded' : sent.refused ? 'refused' : sent.timedOut ? 'timeout' : sent.status === null ? 'error' : 'failed',
        status: sent.status, durationMs: sent.durationMs,
      });
    } catch (e) {
      log.warn('outbound attempt observer failed', { error: errorMessage(e) });
    }
    if (outcome === 'failed' && attemptNumber >= MAX_ATTEMPTS) log.info('outbound delivery failed for good', { tenant, delivery_id: state.delivery_id, attempts: attemptNumber });
  }
  return outcomes;
}

function headerValue(headers: Record<string, string | string[]> | null, name: string): string | null {
  const v = headers?.[name];
  return Array.isArray(v) ? v[0] ?? null : v ?? null;
}
