// The inbound endpoint: POST|PUT|PATCH /api/inbound/{tenantSlug}/{webhookSlug}.
// In order: per-source-address rate limit → body size and bytes-in-flight limits → config lookup (tenant, its
// inbound flag, webhook) → authentication → per-webhook rate limit (verified requests only) →
// body parsing → idempotency key → one SQL call that records the delivery and enqueues its job.
// The 200 is sent only after that call has committed.
//
// Every refusal before a verified request (unknown tenant, tenant switched off, unknown or
// inactive webhook, bad credentials) is the same 401, after the same work: a signature check
// (against a decoy when there is no webhook to check against) and a rejection queued for the
// log, never awaited (./rejections.ts). Nothing in the answer or its timing tells a caller
// which tenants or webhooks exist.
//
// It is served straight from node:http, ahead of the Express app that serves everything else
// (health, GraphQL, REST): Express's routing and response helpers cost more per request than the
// rest of this path together (bench/README.md), and this is the path senders load.
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlockList } from 'node:net';
import { errorMessage, log } from '../core/log.ts';
import { countAuthFailure, countInboundAnswer, type InboundReason } from '../core/metrics.ts';
import { signsTimestamp } from '../core/webhookConfig.ts';
import { arrivalTime, type Arrival } from './arrivalClock.ts';
import { authenticate, authenticateDecoy } from './auth/index.ts';
import type { UnverifiedRequest, VerifiedRequest } from './auth/types.ts';
import { parseBody } from './body.ts';
import { resolveClientIp } from './clientIp.ts';
import type { ConfigCache, WebhookConfig } from './configCache.ts';
import { safeHeaders, safePath } from './headers.ts';
import { idempotencyKey } from './idempotency.ts';
import { sourceKey, type RateLimiter, type RateLimitVerdict } from './rateLimit.ts';
import { readBody, type ByteBudget } from './readBody.ts';
import type { Recorder } from './recorder.ts';
import type { RejectionKind, RejectionLog } from './rejections.ts';
import { Sequencer, type Turn } from './sequencer.ts';

/** Characters of a body's text the delivery row keeps after retention cuts the body (as left(text, 256) in SQL). */
export const BODY_HEAD_CHARS = 256;

/** The first BODY_HEAD_CHARS characters (code points, never half a surrogate pair), without NULs (text cannot hold them). */
export function bodyHead(text: string): string {
  const start = text.length > BODY_HEAD_CHARS * 2 ? text.slice(0, BODY_HEAD_CHARS * 2) : text;
  let head = '';
  let count = 0;
  for (const ch of start) {
    if (count === BODY_HEAD_CHARS) break;
    head += ch;
    count++;
  }
  return head.replaceAll('\u0000', '');
}

export interface ReceiverOptions {
  recorder: Recorder;
  rejections: RejectionLog;
  cache: ConfigCache;
  rateLimiter: RateLimiter;
  /** requests per minute from one source address (an IPv6 /64) before authentication; 0 = none */
  sourceRateLimitPerMinute: number;
  bodyLimitBytes: number;
  /** request bodies held in memory at once, across requests (INTAKE_MAX_BYTES_IN_FLIGHT) */
  bytesInFlight: ByteBudget;
  inboundWebhooksEnabledDefault: boolean;
  trustedProxies: BlockList | null;
  publicUrl: string;
  jsonataTimeoutMs: number;
  /** a repeat of a request signed without a timestamp is a duplicate too (INTAKE_DEDUPE_UNTIMESTAMPED_REPLAYS) */
  dedupeUntimestampedReplays: boolean;
}

/** Handles the request when it is for the inbound path (true), or leaves it alone (false). */
export type InboundHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const INBOUND_PATH = /^\/api\/inbound\/([^/]+)\/([^/]+)\/?$/i;
const METHODS = new Set(['POST', 'PUT', 'PATCH']);

// Unknown tenant, tenant switched off, unknown webhook, inactive webhook and failed
// authentication all get exactly this answer, headers included, so a caller cannot tell which
// webhooks exist.
const UNAUTHORIZED_BODY = JSON.stringify({ error: 'unauthorized' });

/** Slugs as the schema allows them (psa.tenants, intake.inbound_webhooks): anything else is unknown. */
const SLUG = /^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/;

/** Why a status was answered, where the status alone says it (the rest pass their reason). */
function reasonOf(status: number, body: unknown): InboundReason {
  if (status === 200) return (body as { duplicate?: unknown }).duplicate === true ? 'duplicate' : 'accepted';
  if (status === 400) return typeof body === 'object' && body !== null && 'delivery_id' in body ? 'recorded_failed' : 'bad_request';
  return ({ 401: 'unauthorized', 405: 'method_not_allowed', 413: 'too_large', 415: 'unsupported_media_type' } as Record<number, InboundReason>)[status] ?? 'other';
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>, reason?: InboundReason): void {
  if (res.headersSent || res.destroyed) return;
  countInboundAnswer(status, reason ?? reasonOf(status, body));
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function unauthorized(res: ServerResponse): void {
  sendJson(res, 401, UNAUTHORIZED_BODY);
}

function tooMany(res: ServerResponse, verdict: Extract<RateLimitVerdict, { limited: true }>, reason: InboundReason): void {
  sendJson(res, 429, { error: 'rate limit exceeded', retry_after_seconds: verdict.retryAfterSeconds }, {
    'retry-after': String(verdict.retryAfterSeconds),
  }, reason);
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function queryOf(search: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (search) for (const [key, value] of new URLSearchParams(search)) if (!(key in out)) out[key] = value;
  return out;
}

function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

export function createReceiver(options: ReceiverOptions): InboundHandler {
  const sequencer = new Sequencer();

  async function receive(req: IncomingMessage, res: ServerResponse, tenantSlug: string, webhookSlug: string, pathname: string, search: string) {
    const sourceIp = resolveClientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'] as string | undefined, options.trustedProxies);
    // Before the body is read, and the same for every URL: a flood from one address is turned
    // away at the cost of one counter, whether or not the webhook exists.
    const coarse = await options.rateLimiter.hit(sourceKey(sourceIp), options.sourceRateLimitPerMinute);
    if (coarse.limited) {
      req.resume();
      return tooMany(res, coarse, 'source_rate_limited');
    }

    const read = await readBody(req, options.bodyLimitBytes, options.bytesInFlight);
    if (!read.ok) return sendJson(res, read.status, { error: read.error }, read.status === 503 ? { 'retry-after': '5' } : undefined, read.status === 503 ? 'bytes_in_flight' : undefined);
    // The body is held until the answer is sent (it is recorded first): then its bytes are free.
    if (res.closed) options.bytesInFlight.release(read.held);
    else res.once('close', () => options.bytesInFlight.release(read.held));

    // A request arrives when its body has been read. Its turn is taken before the next await
    // and given back when the delivery is handed over or the response ends, whichever is first.
    const arrival = arrivalTime();
    const turn = sequencer.take(`${tenantSlug}/${webhookSlug}`);
    res.once('close', turn.done);

    // (a slug no tenant or webhook can have is awaited too: the same turns of the event loop)
    const config = await (SLUG.test(tenantSlug) && SLUG.test(webhookSlug) ? options.cache.get(tenantSlug, webhookSlug) : null);
    const unverified: UnverifiedRequest = {
      method: req.method!,
      path: pathname,
      query: queryOf(search),
      headers: flatHeaders(req),
      rawBody: read.body,
      sourceIp,
      url: options.publicUrl + req.url,
      receivedAt: arrival.date,
    };
    const rejection = (status: RejectionKind, reason: string, webhookId: string | null, counted: string = status) => {
      countAuthFailure(counted);
      options.rejections.add({
        // none for an unknown tenant, nor for one whose inbound webhooks are off: counted, not written
        tenant: config && enabled ? config.tenant : null,
        inbound_webhook_id: webhookId,
        webhook_slug: webhookSlug,
        auth_status: status,
        reason,
        request_method: req.method!,
        source_ip: sourceIp || null,
        user_agent: req.headers['user-agent'] ?? null,
        received_at: arrival.iso,
      });
    };

    const webhook = config?.webhook;
    const enabled = config ? (config.tenantEnabled ?? options.inboundWebhooksEnabledDefault) : false;
    if (!config || !enabled || !webhook || !webhook.isActive) {
      authenticateDecoy(unverified, arrival.date); // a refusal's work (./auth/index.ts)
      const status = webhook ? 'inactive_webhook' : 'unknown_webhook';
      const reason = !config ? `unknown tenant "${tenantSlug}"`
        : !enabled ? 'inbound webhooks are switched off for the tenant'
          : `${status.replace('_', ' ')} "${webhookSlug}"`;
      rejection(status, reason, webhook?.id ?? null, !config ? 'unknown_tenant' : !enabled ? 'tenant_disabled' : status);
      return unauthorized(res);
    }

    const auth = authenticate(unverified, webhook.auth, webhook.secrets, arrival.date);
    if (!auth.ok) {
      rejection(auth.status, auth.reason, webhook.id);
      return unauthorized(res);
    }

    // Verified requests only: a stranger cannot use up the sender's allowance.
    const verdict = await options.rateLimiter.hit(webhook.id, webhook.rateLimitPerMinute);
    if (verdict.limited) return tooMany(res, verdict, 'webhook_rate_limited');

    // A digest of the signature that verified it, not the signature itself: the same one again
    // is a replay (docs/receiver.md, "Replays"). Where the signature covers no timestamp, the
    // same body again may be the sender's next event, so only when the operator says so.
    const replayDigest = auth.signature && (options.dedupeUntimestampedReplays || signsTimestamp(webhook.auth))
      ? createHash('sha256').update(auth.signature).digest('hex') : null;
    const recorded = await record(auth.request, config.tenant, webhook, arrival, turn, replayDigest);
    sendJson(res, recorded.response_status, recorded.response_body);
  }

  async function record(request: VerifiedRequest, tenant: string, webhook: WebhookConfig, arrival: Arrival, turn: Turn, replayDigest: string | null) {
    const body = parseBody(request.rawBody, request.headers['content-type']);
    let key: string | null = null;
    let failure: string | null = body.ok ? null : body.error;
    if (body.ok) {
      try {
        key = await idempotencyKey(webhook, request.headers, body.value, options.jsonataTimeoutMs);
      } catch (error) {
        // Recorded as a failed delivery (400, with the reason), never dispatched: accepted
        // without its key it could be applied twice when the sender repeats it. The body is
        // kept, so it can be replayed once the expression is fixed.
        failure = `idempotency key expression failed: ${errorMessage(error)}`;
        log.info('idempotency expression failed; delivery recorded as failed', { tenant, webhook: webhook.id, error: errorMessage(error) });
      }
    } else if (webhook.idempotency?.type === 'header') {
      key = request.headers[webhook.idempotency.value] ?? null;
    }

    await turn.ready;
    const recording = options.recorder.submit({
      tenant,
      inbound_webhook_id: webhook.id,
      delivery_id: randomUUID(),
      request_method: request.method,
      request_path: safePath(request.path, request.query, webhook.auth),
      request_headers: safeHeaders(request.headers, webhook.auth),
      request_body: body.ok ? body.value : null,
      request_body_text: body.ok ? null : body.text,
      body_format: body.ok ? body.format : null,
      content_type: body.mediaType,
      source_ip: request.sourceIp || null,
      user_agent: request.headers['user-agent'] ?? null,
      idempotency_key: key,
      received_at: arrival.iso,
      failure,
      failure_status: body.ok ? (failure === null ? null : 400) : body.status,
      replay_digest: replayDigest,
      raw_text: body.ok ? body.text : undefined,
      // what the delivery row keeps after retention cuts the body (docs/operations.md "Retention")
      body_size: request.rawBody.length,
      body_sha256: createHash('sha256').update(request.rawBody).digest('hex'),
      body_head: bodyHead(body.text ?? request.rawBody.subarray(0, BODY_HEAD_CHARS * 4).toString('utf8')),
    });
    turn.done(); // submit() queued it synchronously: later requests may follow now
    return recording;
  }

  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const match = INBOUND_PATH.exec(pathname);
    if (!match) return false;
    if (!METHODS.has(req.method ?? '')) {
      req.resume();
      sendJson(res, 405, { error: 'method not allowed: use POST, PUT or PATCH' }, { allow: 'POST, PUT, PATCH' });
      return true;
    }
    const tenantSlug = decodeSegment(match[1]!);
    const webhookSlug = decodeSegment(match[2]!);
    if (tenantSlug === null || webhookSlug === null) {
      req.resume();
      sendJson(res, 400, { error: 'malformed percent-encoding in the path' }, undefined, 'malformed_path');
      return true;
    }
    receive(req, res, tenantSlug, webhookSlug, pathname, q === -1 ? '' : url.slice(q + 1)).catch((error: unknown) => {
      // Database outages and the like: the sender is told to retry (5xx), since the request was
      // not durably recorded.
      log.error('inbound: could not record a delivery', { error: errorMessage(error) });
      sendJson(res, 503, { error: 'temporarily unable to record the request; retry later' }, { 'retry-after': '5' }, 'database_unavailable');
    });
    return true;
  };
}
