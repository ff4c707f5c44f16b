// The inbound endpoint: POST|PUT|PATCH /api/inbound/{tenantSlug}/{webhookSlug}.
// In order: body size limit → tenant flag → config lookup → per-webhook rate limit →
// authentication → body parsing → idempotency key → one SQL call that records the delivery
// and enqueues its job. The 200 is sent only after that call has committed.
//
// It is served straight from node:http, ahead of the Express app that serves everything else
// (health, GraphQL, REST): Express's routing and response helpers cost more per request than the
// rest of this path together (bench/README.md), and this is the path senders load.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BlockList } from 'node:net';
import type pg from 'pg';
import { errorMessage, log } from '../core/log.ts';
import { arrivalTime, type Arrival } from './arrivalClock.ts';
import { authenticate } from './auth/index.ts';
import type { UnverifiedRequest, VerifiedRequest } from './auth/types.ts';
import { parseBody } from './body.ts';
import { resolveClientIp } from './clientIp.ts';
import type { ConfigCache, WebhookConfig } from './configCache.ts';
import { safeHeaders, safePath } from './headers.ts';
import { idempotencyKey } from './idempotency.ts';
import type { RateLimiter } from './rateLimit.ts';
import { readBody } from './readBody.ts';
import type { Recorder } from './recorder.ts';
import { Sequencer, type Turn } from './sequencer.ts';

export interface ReceiverOptions {
  pool: pg.Pool;
  recorder: Recorder;
  cache: ConfigCache;
  rateLimiter: RateLimiter;
  bodyLimitBytes: number;
  inboundWebhooksEnabledDefault: boolean;
  trustedProxies: BlockList | null;
  publicUrl: string;
  jsonataTimeoutMs: number;
}

/** Handles the request when it is for the inbound path (true), or leaves it alone (false). */
export type InboundHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const INBOUND_PATH = /^\/api\/inbound\/([^/]+)\/([^/]+)\/?$/i;
const METHODS = new Set(['POST', 'PUT', 'PATCH']);

// Unknown tenant, unknown webhook, inactive webhook and failed authentication all get exactly
// this answer, headers included, so a caller cannot tell which webhooks exist.
const UNAUTHORIZED_BODY = JSON.stringify({ error: 'unauthorized' });

function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function unauthorized(res: ServerResponse): void {
  sendJson(res, 401, UNAUTHORIZED_BODY);
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

  async function recordRejection(
    tenant: string,
    webhookId: string | null,
    webhookSlug: string,
    status: string,
    reason: string,
    req: IncomingMessage,
    sourceIp: string,
  ): Promise<void> {
    try {
      await options.pool.query(
        `insert into intake.inbound_webhook_auth_rejections
           (tenant, inbound_webhook_id, webhook_slug, auth_status, reason, request_method, source_ip, user_agent)
         values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [tenant, webhookId, webhookSlug, status, reason, req.method, sourceIp || null, req.headers['user-agent'] ?? null],
      );
    } catch (error) {
      log.warn('could not record an auth rejection', { tenant, webhook_slug: webhookSlug, error: errorMessage(error) });
    }
  }

  async function receive(req: IncomingMessage, res: ServerResponse, tenantSlug: string, webhookSlug: string, pathname: string, search: string) {
    const read = await readBody(req, options.bodyLimitBytes);
    if (!read.ok) return sendJson(res, read.status, { error: read.error });

    // A request arrives when its body has been read. Its turn is taken before the next await
    // and given back when the delivery is handed over or the response ends, whichever is first.
    const arrival = arrivalTime();
    const turn = sequencer.take(`${tenantSlug}/${webhookSlug}`);
    res.once('close', turn.done);

    const sourceIp = resolveClientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'] as string | undefined, options.trustedProxies);
    const config = await options.cache.get(tenantSlug, webhookSlug);
    if (!config) {
      log.info('inbound: unknown tenant', { tenant_slug: tenantSlug, source_ip: sourceIp });
      return unauthorized(res);
    }
    if (!(config.tenantEnabled ?? options.inboundWebhooksEnabledDefault)) return sendJson(res, 404, { error: 'not found' });
    const webhook = config.webhook;
    if (!webhook || !webhook.isActive) {
      const status = webhook ? 'inactive_webhook' : 'unknown_webhook';
      await recordRejection(config.tenant, webhook?.id ?? null, webhookSlug, status, `${status.replace('_', ' ')} "${webhookSlug}"`, req, sourceIp);
      return unauthorized(res);
    }

    const verdict = await options.rateLimiter.hit(webhook.id, webhook.rateLimitPerMinute);
    if (verdict.limited) {
      return sendJson(res, 429, { error: 'rate limit exceeded', retry_after_seconds: verdict.retryAfterSeconds }, {
        'retry-after': String(verdict.retryAfterSeconds),
      });
    }

    const headers = flatHeaders(req);
    const unverified: UnverifiedRequest = {
      method: req.method!,
      path: pathname,
      query: queryOf(search),
      headers,
      rawBody: read.body,
      sourceIp,
      url: options.publicUrl + req.url,
      receivedAt: arrival.date,
    };
    const auth = authenticate(unverified, webhook.auth, webhook.secrets, arrival.date);
    if (!auth.ok) {
      await recordRejection(config.tenant, webhook.id, webhook.slug, auth.status, auth.reason, req, sourceIp);
      return unauthorized(res);
    }
    const recorded = await record(auth.request, config.tenant, webhook, arrival, turn);
    sendJson(res, recorded.response_status, recorded.response_body);
  }

  async function record(request: VerifiedRequest, tenant: string, webhook: WebhookConfig, arrival: Arrival, turn: Turn) {
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
      raw_text: body.ok ? body.text : undefined,
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
      sendJson(res, 400, { error: 'malformed percent-encoding in the path' });
      return true;
    }
    receive(req, res, tenantSlug, webhookSlug, pathname, q === -1 ? '' : url.slice(q + 1)).catch((error: unknown) => {
      // Database outages and the like: the sender is told to retry (5xx), since the request was
      // not durably recorded.
      log.error('inbound: could not record a delivery', { error: errorMessage(error) });
      sendJson(res, 503, { error: 'temporarily unable to record the request; retry later' }, { 'retry-after': '5' });
    });
    return true;
  };
}
