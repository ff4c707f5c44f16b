// The REST management API at /api/v1 (handlers in this folder, one file per resource area),
// its OpenAPI document and docs page. Every call authenticates with an API key
// (`Authorization: Bearer <key>` or `X-API-Key`) and runs as intake_user with the key's tenant
// and user, through the same code and SQL functions as GraphQL. Errors have one shape:
// {"error": {"code", "message", "details"}} (api/errors.ts decides code and status).
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { errorMessage, log } from '../../core/log.ts';
import { requireAuth } from '../auth.ts';
import { toApiError, type ApiErrorCode } from '../errors.ts';
import { REST_BASE, type Schemas } from './http.ts';
import { actionRoutes } from './actions.ts';
import { deliveryRoutes } from './deliveries.ts';
import { docsRoutes } from './docs.ts';
import { outboundRoutes } from './outbound.ts';
import { webhookRoutes, type RestOptions } from './webhooks.ts';

export type { RestOptions };
export { REST_BASE };

type ErrorCode = Schemas['Error']['error']['code'];

export function errorBody(code: ErrorCode | ApiErrorCode, message: string, details: Record<string, unknown> = {}): Schemas['Error'] {
  return { error: { code, message, details } };
}

/** "handler.field_mapping.title: …" → "handler.field_mapping.title" (the field a message names). */
function fieldOf(message: string): string | undefined {
  const match = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+)*): /.exec(message);
  return match?.[1];
}

function handleError(error: unknown, req: Request, res: Response, _next: NextFunction): void {
  if (res.headersSent) return;
  const e = error as { type?: string; status?: number };
  if (e?.type === 'entity.parse.failed') {
    res.status(400).json(errorBody('VALIDATION', 'body: not valid JSON', { field: 'body' }));
    return;
  }
  if (e?.type === 'entity.too.large' || e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    res.status(e.status ?? 400).json(errorBody('VALIDATION', `body: ${errorMessage(error)}`, { field: 'body' }));
    return;
  }
  const known = toApiError(error);
  if (known) {
    const details: Record<string, unknown> = { ...(known.details ?? {}) };
    if ((known.code === 'VALIDATION' || known.code === 'BAD_EXPRESSION') && details.field === undefined) {
      const field = fieldOf(known.message);
      if (field) details.field = field;
    }
    if (details.position === undefined) delete details.position;
    res.status(known.status).json(errorBody(known.code, known.message, details));
    return;
  }
  log.error('rest: request failed', { method: req.method, path: req.path, error: errorMessage(error) });
  res.status(500).json(errorBody('INTERNAL', 'internal error'));
}

export function mountRest(app: Express, options: RestOptions): void {
  app.use(docsRoutes());
  const api = express.Router();
  api.use(
    requireAuth(options.pool, {
      acceptApiKeyHeader: true,
      ...(options.sessions ? { sessions: options.sessions } : {}),
      refuse: (res) => {
        res.json(errorBody('UNAUTHENTICATED', 'send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>" (create one with: intake api-key create), or sign in'));
      },
      unavailable: (res) => {
        res.json(errorBody('UNAVAILABLE', 'could not check the API key; retry'));
      },
    }),
  );
  api.use(express.json({ limit: '1mb', type: () => true }));
  api.use(actionRoutes());
  api.use(webhookRoutes(options));
  api.use(deliveryRoutes(options));
  api.use(outboundRoutes(options));
  api.use((req, res) => {
    res.status(404).json(errorBody('NOT_FOUND', `no route ${req.method} ${req.originalUrl.split('?')[0]}`));
  });
  api.use(handleError);
  app.use(REST_BASE, api);
}
