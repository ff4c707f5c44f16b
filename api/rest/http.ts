// The REST layer's typing against the generated document types (api/openapi.d.ts): a route is
// registered by its OpenAPI path and method, and its handler must return one of the documented
// success statuses with that status's documented JSON body, so a handler that drifts from
// api/openapi.yaml fails `tsc`. Request bodies and query parameters are typed as documented but
// arrive untrusted: the handlers validate them (zod for webhook settings) before use.
import type { Request, Response, Router } from 'express';
import type { Claims } from '../auth.ts';
import { claimsOf } from '../auth.ts';
import { ApiRequestError } from '../errors.ts';
import type { components, paths } from '../openapi.d.ts';

export type Schemas = components['schemas'];
export type Method = 'get' | 'post' | 'put' | 'delete';
export type Path = keyof paths;
export type Operation<P extends Path, M extends Method> = NonNullable<paths[P][M]>;
type Responses<P extends Path, M extends Method> = Operation<P, M> extends { responses: infer R } ? R : never;
type SuccessStatus<P extends Path, M extends Method> = Extract<keyof Responses<P, M>, 200 | 201 | 202 | 204>;
type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : undefined;

/** What a handler answers: a documented success status with its documented body. */
export type Reply<P extends Path, M extends Method> = {
  [S in SuccessStatus<P, M>]: { status: S; body: JsonOf<Responses<P, M>[S]> };
}[SuccessStatus<P, M>];

/** The documented JSON request body (untrusted until validated). */
export type RequestBody<P extends Path, M extends Method> = Operation<P, M> extends { requestBody?: infer B }
  ? JsonOf<NonNullable<B>>
  : undefined;

type Parameters<P extends Path, M extends Method> = Operation<P, M> extends { parameters: infer Q } ? Q : never;
export type PathParams<P extends Path, M extends Method> = Parameters<P, M> extends { path: infer T } ? NonNullable<T> : Record<string, never>;
/** Query parameters as strings, as they arrive (the handler parses and checks them). */
export type QueryParams<P extends Path, M extends Method> = Parameters<P, M> extends { query?: infer T }
  ? { [K in keyof NonNullable<T>]?: string }
  : Record<string, never>;

export interface HandlerContext<P extends Path, M extends Method> {
  req: Request;
  claims: Claims;
  params: PathParams<P, M>;
  query: QueryParams<P, M>;
  body: Partial<RequestBody<P, M>> | undefined;
}

export type Handler<P extends Path, M extends Method> = (ctx: HandlerContext<P, M>) => Promise<Reply<P, M>>;

/** Where the REST routers are mounted; the documented paths include it. */
export const REST_BASE = '/api/v1';

/** '/api/v1/inbound-webhooks/{id}' → '/inbound-webhooks/:id' (relative to REST_BASE) */
export function expressPath(path: string): string {
  if (!path.startsWith(REST_BASE + '/')) throw new Error(`${path} is not under ${REST_BASE}`);
  return path.slice(REST_BASE.length).replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

/** Registers a handler for a documented operation. */
export function route<P extends Path, M extends Method>(router: Router, method: M, path: P, handler: Handler<P, M>): void {
  router[method](expressPath(path), async (req: Request, res: Response) => {
    const claims = claimsOf(req);
    if (!claims) throw new ApiRequestError('UNAUTHENTICATED', 'no API key');
    const reply = await handler({
      req,
      claims,
      params: req.params as PathParams<P, M>,
      query: req.query as QueryParams<P, M>,
      body: req.body as Partial<RequestBody<P, M>> | undefined,
    });
    const { status, body } = reply as { status: number; body: unknown };
    if (body === undefined) res.status(status).end();
    else res.status(status).json(body);
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A path or body value that must be a uuid: 400 naming the field otherwise. */
export function uuidParam(field: string, value: unknown): string {
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw new ApiRequestError('VALIDATION', `${field}: must be a uuid`, { field });
  }
  return value;
}

/** The request body as an object ({} when absent): 400 otherwise. */
export function objectBody(body: unknown, required: boolean): Record<string, unknown> {
  if (body === undefined || body === null) {
    if (required) throw new ApiRequestError('VALIDATION', 'body: a JSON object is required', { field: 'body' });
    return {};
  }
  if (typeof body !== 'object' || Array.isArray(body)) throw new ApiRequestError('VALIDATION', 'body: must be a JSON object', { field: 'body' });
  return body as Record<string, unknown>;
}

/** Refuses keys the document does not list for a body. */
export function onlyKeys(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw new ApiRequestError('VALIDATION', `${key}: not a known field (expected ${allowed.join(', ')})`, { field: key });
  }
}

/** An opaque keyset cursor: the last row's (time in microseconds, id), for the logs' pages. */
export function encodeCursor(receivedAt: string, id: string): string {
  return Buffer.from(JSON.stringify([receivedAt, id])).toString('base64url');
}

export function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && !Number.isNaN(Date.parse(value[0]))) {
      return [value[0], uuidParam('cursor', value[1])];
    }
  } catch {
    // fall through
  }
  throw new ApiRequestError('VALIDATION', 'cursor: not a cursor this API returned', { field: 'cursor' });
}

export function timeParam(field: string, value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (Number.isNaN(Date.parse(value))) throw new ApiRequestError('VALIDATION', `${field}: must be an ISO 8601 date-time`, { field });
  return new Date(value).toISOString();
}
