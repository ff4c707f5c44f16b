// The inbound endpoint: POST|PUT|PATCH /api/inbound/{tenantSlug}/{webhookSlug}.
// In order: body size limit → tenant flag → config lookup → per-webhook rate limit →
// authentication → body parsing → idempotency key → one SQL call that records the delivery
// and enqueues its job. The 200 is sent only after that call has committed.
import type { BlockList } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import type pg from 'pg';
import { errorMessage, log } from '../core/log.ts';
import { arrivalTime, type Arrival } from './arrivalClock.ts';
import { authenticate } from './auth/index.ts';
import type { UnverifiedRequest, VerifiedRequest } from './auth/types.ts';
import { parseBody } from './body.ts';
import { resolveClientIp } from './clientIp.ts';
import type { ConfigCache, RouteConfig, WebhookConfig } from './configCache.ts';
import { safeHeaders, safePath } from './headers.ts';
import { idempotencyKey } from './idempotency.ts';
import type { Recorder } from './recorder.ts';
import { Sequencer, type Turn } from './sequencer.ts';

export interface ReceiverOptions {
  pool: pg.Pool;
  recorder: Recorder;
  cache: ConfigCache;
  rateLimitStore: Store | undefined;
  bodyLimitBytes: number;
  inboundWebhooksEnabledDefault: boolean;
  trustedProxies: BlockList | null;
  publicUrl: string;
  jsonataTimeoutMs: number;
}

// Unknown tenant, unknown webhook, inactive webhook and failed authentication all get exactly
// this answer, headers included, so a caller cannot tell which webhooks exist.
const UNAUTHORIZED_BODY = JSON.stringify({ error: 'unauthorized' });

function unauthorized(res: Response): void {
  res.status(401).type('application/json').send(UNAUTHORIZED_BODY);
}

function flatHeaders(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function flatQuery(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  const url = new URL(req.originalUrl, 'http://x');
  for (const [key, value] of url.searchParams) if (!(key in out)) out[key] = value;
  return out;
}

interface Locals {
  route: RouteConfig & { webhook: WebhookConfig };
  arrival: Arrival;
  sourceIp: string;
  turn: Turn;
}

export function createReceiver(options: ReceiverOptions): express.Router {
  const router = express.Router();
  const path = '/api/inbound/:tenantSlug/:webhookSlug';

  const readBody = express.raw({ type: () => true, limit: options.bodyLimitBytes });
  const sequencer = new Sequencer();

  async function recordRejection(
    tenant: string,
    webhookId: string | null,
    webhookSlug: string,
    status: string,
    reason: string,
    req: Request,
    sourceIp: string,
  ): Promise<void> {
    try {
      await options.pool.query(
        `insert into intake.inbound_webhook_auth_rejections
           (tenant, inbound_webhook_id, webhook_slug, auth_status, reason, request_method, source_ip, user_agent)
         values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [tenant, webhookId, webhookSlug, status, reason, req.method, sourceIp || null, req.get('user-agent') ?? null],
      );
    } catch (error) {
      log.warn('could not record an auth rejection', { tenant, webhook_slug: webhookSlug, error: errorMessage(error) });
    }
  }

  async function route(req: Request, res: Response, next: NextFunction): Promise<void> {
    const arrival = arrivalTime();
    const tenantSlug = String(req.params.tenantSlug);
    const webhookSlug = String(req.params.webhookSlug);
    // Taken before the first await; given back when the delivery is handed over or the
    // response ends, whichever is first.
    const turn = sequencer.take(`${tenantSlug}/${webhookSlug}`);
    res.once('close', turn.done);
    const sourceIp = resolveClientIp(req.socket.remoteAddress, req.get('x-forwarded-for'), options.trustedProxies);
    const config = await options.cache.get(tenantSlug, webhookSlug);
    if (!config) {
      log.info('inbound: unknown tenant', { tenant_slug: tenantSlug, source_ip: sourceIp });
      return unauthorized(res);
    }
    if (!(config.tenantEnabled ?? options.inboundWebhooksEnabledDefault)) {
      res.status(404).json({ error: 'not found' });
      return;
    }
    if (!config.webhook || !config.webhook.isActive) {
      const status = config.webhook ? 'inactive_webhook' : 'unknown_webhook';
      await recordRejection(config.tenant, config.webhook?.id ?? null, webhookSlug, status, `${status.replace('_', ' ')} "${webhookSlug}"`, req, sourceIp);
      return unauthorized(res);
    }
    res.locals = { route: { ...config, webhook: config.webhook }, arrival, sourceIp, turn } satisfies Locals;
    next();
  }

  const limiter = rateLimit({
    windowMs: 60_000,
    limit: (_req, res) => (res.locals as Locals).route.webhook.rateLimitPerMinute,
    skip: (_req, res) => (res.locals as Locals).route.webhook.rateLimitPerMinute === 0,
    keyGenerator: (_req, res) => (res.locals as Locals).route.webhook.id,
    // No RateLimit-* headers: they would make a known webhook's 401 differ from an unknown one's.
    standardHeaders: false,
    legacyHeaders: false,
    passOnStoreError: true,
    validate: false,
    ...(options.rateLimitStore ? { store: options.rateLimitStore } : {}),
    handler: (req, res) => {
      const resetTime = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const seconds = resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : 60;
      res.set('Retry-After', String(seconds));
      res.status(429).json({ error: 'rate limit exceeded', retry_after_seconds: seconds });
    },
  });

  async function receive(req: Request, res: Response): Promise<void> {
    const { route: config, arrival, sourceIp, turn } = res.locals as Locals;
    const webhook = config.webhook;
    const headers = flatHeaders(req);
    const query = flatQuery(req);
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const unverified: UnverifiedRequest = {
      method: req.method,
      path: req.path,
      query,
      headers,
      rawBody,
      sourceIp,
      url: options.publicUrl + req.originalUrl,
      receivedAt: arrival.date,
    };

    const auth = authenticate(unverified, webhook.auth, webhook.secrets, arrival.date);
    if (!auth.ok) {
      await recordRejection(config.tenant, webhook.id, webhook.slug, auth.status, auth.reason, req, sourceIp);
      return unauthorized(res);
    }
    await record(auth.request, config.tenant, webhook, res, arrival, turn);
  }

  async function record(
    request: VerifiedRequest,
    tenant: string,
    webhook: WebhookConfig,
    res: Response,
    arrival: Arrival,
    turn: Turn,
  ): Promise<void> {
    const body = parseBody(request.rawBody, request.headers['content-type']);
    let key: string | null = null;
    const failure: string | null = body.ok ? null : body.error;
    if (body.ok) {
      try {
        key = await idempotencyKey(webhook, request.headers, body.value, options.jsonataTimeoutMs);
      } catch (error) {
        // Refusing would lose the request; accepting it undeduped and saying so is safer.
        log.warn('idempotency expression failed; delivery accepted without a key', { tenant, webhook: webhook.id, error: errorMessage(error) });
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
      failure_status: body.ok ? null : body.status,
      raw_text: body.ok ? body.text : undefined,
    });
    turn.done(); // submit() queued it synchronously: later requests may follow now
    const recorded = await recording;
    res.status(recorded.response_status).json(recorded.response_body);
  }

  router.post(path, readBody, route, limiter, receive);
  router.put(path, readBody, route, limiter, receive);
  router.patch(path, readBody, route, limiter, receive);
  router.all(path, (_req, res) => {
    res.set('Allow', 'POST, PUT, PATCH').status(405).json({ error: 'method not allowed: use POST, PUT or PATCH' });
  });

  // Errors on this path: bodies too large or unreadable, and database outages. The sender is
  // told to retry (5xx) whenever the request was not durably recorded.
  router.use(path, (error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = error as { type?: string; status?: number; limit?: number };
    if (res.headersSent) return;
    if (e.type === 'entity.too.large') {
      res.status(413).json({ error: `body larger than the ${options.bodyLimitBytes}-byte limit` });
    } else if (e.type === 'encoding.unsupported') {
      res.status(415).json({ error: 'unsupported content encoding' });
    } else if (e.type === 'request.aborted') {
      res.status(400).end();
    } else if (e.status && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: 'could not read the request body' });
    } else {
      log.error('inbound: could not record a delivery', { error: errorMessage(error) });
      res.set('Retry-After', '5').status(503).json({ error: 'temporarily unable to record the request; retry later' });
    }
  });
  return router;
}
