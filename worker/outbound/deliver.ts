// One attempt of an outbound delivery (the outbound_deliver task): read the delivery, its event
// and subscription and the live signing secrets; POST the event's payload signed per Standard
// Webhooks through the SSRF-guarded agent; then, in one transaction, record the attempt, move
// the delivery on (succeeded, failed, or its next attempt scheduled with run_at) and update the
// subscription's health (a 410 disables it, and so do INTAKE_OUTBOUND_DISABLE_AFTER_HOURS of
// failures without a success). No transaction is open while the request is in flight.
// Runs as the owner (the secrets are in intake_private), filtering by tenant explicitly.
import type pg from 'pg';
import { request, type Dispatcher } from 'undici';
import { aesGcmBox } from '../../core/crypto.ts';
import { errorMessage, log } from '../../core/log.ts';
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

async function readState(pool: pg.Pool, tenant: string, deliveryId: string): Promise<DeliveryState | null> {
  const { rows } = await pool.query<DeliveryState>(
    `select d.status, d.attempt_count, d.event_id, d.event_type, d.subscription_id, e.payload, e.is_test,
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
      where d.tenant = $1 and d.delivery_id = $2`,
    [tenant, deliveryId],
  );
  return rows[0] ?? null;
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
  return Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8');
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

/** One attempt of a delivery and what follows from it. Safe to run again: a delivery no longer pending is left alone. */
export async function deliverOutbound(
  pool: pg.Pool, tenant: string, deliveryId: string, trigger: 'scheduled' | 'manual' | 'test', options: OutboundDeliverOptions,
): Promise<DeliverOutcome> {
  const state = await readState(pool, tenant, deliveryId);
  if (!state) return 'gone';
  if (state.status !== 'pending') return 'not_pending';
  if (!state.is_active && !state.is_test) {
    await pool.query(
      `update intake.outbound_deliveries set status = 'failed', next_attempt_at = null, last_error = $3
        where tenant = $1 and delivery_id = $2 and status = 'pending'`,
      [tenant, deliveryId, `not sent: the subscription is disabled${state.disabled_reason ? ` (${state.disabled_reason})` : ''}`],
    );
    return 'disabled';
  }
  if (state.rate_limit_per_minute !== null && state.recent_attempts >= state.rate_limit_per_minute && !state.is_test) {
    // over the subscription's limit: not an attempt, the job comes back when a slot is likely free
    const waitMs = Math.ceil(60_000 / state.rate_limit_per_minute) + Math.floor((options.random ?? Math.random)() * 1000);
    await pool.query(
      `select intake_private.enqueue_outbound_delivery($1, $2, now() + make_interval(secs => $3::float8 / 1000), $4)`,
      [tenant, deliveryId, waitMs, trigger],
    );
    await pool.query(`update intake.outbound_deliveries set next_attempt_at = now() + make_interval(secs => $3::float8 / 1000) where tenant = $1 and delivery_id = $2`, [tenant, deliveryId, waitMs]);
    return 'rate_limited';
  }

  const box = aesGcmBox(options.masterKey);
  const context = subscriptionSecretContext(tenant, state.subscription_id);
  const secrets = state.secrets.map((sealed) => box.open(sealed, context));
  const body = JSON.stringify(state.payload);
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    ...state.headers,
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    ...signedHeaders(secrets, state.event_id, timestamp, body),
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

  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query(
      `insert into intake.outbound_attempts (tenant, delivery_id, subscription_id, attempt_number, trigger, started_at, duration_ms,
         request_url, request_headers, response_status, response_headers, response_body, error_message, succeeded)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [tenant, deliveryId, state.subscription_id, attemptNumber, state.is_test ? 'test' : trigger, sent.startedAt, sent.durationMs,
        state.url, JSON.stringify(headers), sent.status, sent.responseHeaders ? JSON.stringify(sent.responseHeaders) : null,
        sent.responseBody, error, succeeded],
    );
    await client.query(
      `update intake.outbound_deliveries
          set status = $3, attempt_count = attempt_count + 1, last_attempt_at = $4, last_response_status = $5, last_error = $6,
              next_attempt_at = case when $3 = 'pending' then now() + make_interval(secs => $7::float8 / 1000) end,
              succeeded_at = case when $3 = 'succeeded' then now() end
        where tenant = $1 and delivery_id = $2`,
      [tenant, deliveryId, outcome === 'retrying' ? 'pending' : outcome, sent.startedAt, sent.status,
        error === null ? null : gone ? `${error}: the receiver said Gone; the subscription is disabled` : error, delay ?? 0],
    );
    if (outcome === 'retrying') {
      await client.query(
        `select intake_private.enqueue_outbound_delivery($1, $2, now() + make_interval(secs => $3::float8 / 1000), 'scheduled')`,
        [tenant, deliveryId, delay],
      );
    }
    if (!state.is_test) {
      if (succeeded) {
        await client.query(
          `update intake.outbound_subscriptions set failing_since = null where tenant = $1 and subscription_id = $2 and failing_since is not null`,
          [tenant, state.subscription_id],
        );
      } else {
        // 410, or the failing streak passed its limit: disabled, with the reason shown in the UI
        await client.query(
          `update intake.outbound_subscriptions s
              set failing_since = coalesce(s.failing_since, $3),
                  is_active = case when $4 or coalesce(s.failing_since, $3) <= now() - make_interval(hours => $5) then false else s.is_active end,
                  auto_disabled_at = case when s.is_active and ($4 or coalesce(s.failing_since, $3) <= now() - make_interval(hours => $5)) then now() else s.auto_disabled_at end,
                  disabled_reason = case when s.is_active and $4 then 'the receiver answered 410 Gone'
                                         when s.is_active and coalesce(s.failing_since, $3) <= now() - make_interval(hours => $5)
                                           then 'every attempt failed for ' || $5 || ' hours (since ' || to_char(coalesce(s.failing_since, $3) at time zone 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC); last: ' || left($6, 500)
                                         else s.disabled_reason end,
                  updated_at = case when s.is_active and ($4 or coalesce(s.failing_since, $3) <= now() - make_interval(hours => $5)) then now() else s.updated_at end
            where s.tenant = $1 and s.subscription_id = $2`,
          [tenant, state.subscription_id, sent.startedAt, gone, options.disableAfterHours, error ?? ''],
        );
      }
    }
    await client.query('commit');
  } catch (e) {
    await client.query('rollback').catch(() => {});
    throw e;
  } finally {
    client.release();
  }

  try {
    attemptObserver?.({
      tenant, subscriptionId: state.subscription_id, eventType: state.event_type,
      outcome: succeeded ? 'succeeded' : sent.refused ? 'refused' : sent.timedOut ? 'timeout' : sent.status === null ? 'error' : 'failed',
      status: sent.status, durationMs: sent.durationMs,
    });
  } catch (e) {
    log.warn('outbound attempt observer failed', { error: errorMessage(e) });
  }
  if (outcome === 'failed' && attemptNumber >= MAX_ATTEMPTS) log.info('outbound delivery failed for good', { tenant, delivery_id: deliveryId, attempts: attemptNumber });
  return outcome;
}

function headerValue(headers: Record<string, string | string[]> | null, name: string): string | null {
  const v = headers?.[name];
  return Array.isArray(v) ? v[0] ?? null : v ?? null;
}
