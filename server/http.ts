// What every HTTP request of the process goes through (the inbound path, Express, the metrics
// port): a request id, one log line when it ends, and the bookkeeping a graceful shutdown needs.
// And the operations endpoints: /healthz, /readyz, /metrics.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { logger, withRequestId } from '../core/log.ts';
import { metricsText } from '../core/metrics.ts';

/** An X-Request-Id we pass on as it came: short and plain, so it cannot forge log lines. */
const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export interface RequestTracker {
  /** wraps the process's request listener */
  listener(handler: RequestListener): RequestListener;
  /** from now on every answer says `Connection: close` */
  drain(): void;
  /** resolves when no request is in flight (or after `timeoutMs`; true when none was left) */
  idle(timeoutMs: number): Promise<boolean>;
}

export function createRequestTracker(): RequestTracker {
  let active = 0;
  let draining = false;
  let onIdle: (() => void) | null = null;
  return {
    listener: (handler) => (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('x-request-id', id);
      if (draining) res.setHeader('connection', 'close');
      active++;
      const started = performance.now();
      res.once('close', () => {
        active--;
        if (active === 0) onIdle?.();
        const url = req.url ?? '/';
        const q = url.indexOf('?');
        // The path without its query: a path token (`?token=`) is a secret.
        const path = q === -1 ? url : url.slice(0, q);
        const line = {
          req_id: id, method: req.method, path, status: res.writableFinished ? res.statusCode : 0,
          ms: Math.round((performance.now() - started) * 10) / 10, remote: req.socket.remoteAddress,
          ...(res.writableFinished ? {} : { aborted: true }),
        };
        if (QUIET_PATHS.has(path)) logger.debug(line, 'request');
        else logger.info(line, 'request');
      });
      withRequestId(id, () => handler(req, res));
    },
    drain() {
      draining = true;
    },
    idle(timeoutMs) {
      if (active === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve(active === 0), timeoutMs);
        onIdle = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
    },
  };
}

export interface Readiness {
  ready: boolean;
  status: 'ready' | 'not_ready' | 'shutting_down';
  checks: Record<string, string>;
}

export interface OpsOptions {
  readiness(): Promise<Readiness>;
  /** Bearer token /metrics asks for (INTAKE_METRICS_TOKEN); null: none */
  metricsToken: string | null;
  /** false where /metrics is served on a port of its own */
  serveMetrics: boolean;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Handles /healthz, /readyz and /metrics (true), or leaves the request alone (false). */
export function opsHandler(options: OpsOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const expected = options.metricsToken === null ? null : digest(`Bearer ${options.metricsToken}`);
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/healthz') {
      // Alive: the process answers. Whether it can do its work is /readyz.
      sendJson(res, 200, { status: 'ok' });
      return true;
    }
    if (path === '/readyz') {
      options.readiness().then(
        (readiness) => sendJson(res, readiness.ready ? 200 : 503, { status: readiness.status, checks: readiness.checks }),
        (error: unknown) => sendJson(res, 503, { status: 'not_ready', checks: { error: String(error) } }),
      );
      return true;
    }
    if (path === '/metrics' && options.serveMetrics) {
      if (expected !== null) {
        // Digests of equal length, so the comparison takes the same time whatever was sent.
        const given = digest(req.headers.authorization ?? '');
        if (!timingSafeEqual(given, expected)) {
          sendJson(res, 401, { error: 'unauthorized: /metrics needs Authorization: Bearer <INTAKE_METRICS_TOKEN>' }, { 'www-authenticate': 'Bearer' });
          return true;
        }
      }
      metricsText().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        },
        (error: unknown) => sendJson(res, 500, { error: `could not collect metrics: ${String(error)}` }),
      );
      return true;
    }
    return false;
  };
}
