// The UI's only door to the server: /auth/* (sign-in, sessions; CONTRACT.md) and POST /graphql
// with the session cookie and its CSRF token. Errors carry the server's code and, when the
// server names one, the field, so forms can put the message where it belongs.
export interface SessionUser {
  userId: string;
  email: string;
  displayName: string | null;
}
export interface SessionTenant {
  tenant: string;
  slug: string;
  name: string;
  inboundWebhooksEnabled: boolean;
}
export type Session =
  | { signedIn: true; csrfToken: string; user: SessionUser; tenant: SessionTenant; permissions: string[]; expiresAt: string; idleExpiresAt: string }
  | { signedIn: false; setupRequired: boolean };

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: string;
  readonly field: string | undefined;
  readonly status: number;
  constructor(code: string, message: string, status: number, field?: string) {
    super(message);
    this.code = code;
    this.status = status;
    this.field = field;
  }
}

let csrfToken: string | null = null;
let onUnauthenticated: () => void = () => {};

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}
export function setUnauthenticatedHandler(handler: () => void): void {
  onUnauthenticated = handler;
}

const TIMEOUT_MS = 15_000;

/** How often the delivery logs (inbound and outbound) poll for new rows and status changes; the README says why polling. */
export const LOG_POLL_MS = 1_500;

async function request(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  if (csrfToken && init.method && init.method !== 'GET') headers.set('x-csrf-token', csrfToken);
  const { json, ...rest } = init;
  try {
    return await fetch(path, {
      ...rest,
      headers,
      credentials: 'same-origin',
      body: json !== undefined ? JSON.stringify(json) : init.body,
      // a request that hangs must not leave a spinner forever
      signal: init.signal ?? AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError');
    throw new ApiError(timedOut ? 'TIMEOUT' : 'NETWORK', String(error), 0);
  }
}

async function readJson(res: Response): Promise<any> {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function errorFrom(res: Response, body: any): ApiError {
  const e = body?.error;
  if (e && typeof e === 'object') return new ApiError(String(e.code ?? 'ERROR'), String(e.message ?? ''), res.status, e.details?.field);
  return new ApiError(res.status === 401 ? 'UNAUTHENTICATED' : res.status === 403 ? 'FORBIDDEN' : 'HTTP', typeof e === 'string' ? e : '', res.status);
}

export async function authCall<T = any>(method: 'GET' | 'POST', path: string, json?: unknown): Promise<T> {
  const res = await request(path, { method, ...(json !== undefined ? { json } : {}) });
  const body = await readJson(res);
  if (!res.ok) throw errorFrom(res, body);
  return body as T;
}

export async function fetchSession(): Promise<Session> {
  const session = await authCall<Session>('GET', '/auth/session');
  setCsrfToken(session.signedIn ? session.csrfToken : null);
  return session;
}

export async function graphql<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await request('/graphql', {
    method: 'POST',
    json: { query, variables },
    headers: { accept: 'application/graphql-response+json, application/json' },
  });
  const body = await readJson(res);
  if (res.status === 401) {
    onUnauthenticated();
    throw errorFrom(res, body);
  }
  if (body?.errors?.length) {
    const [first] = body.errors;
    const ext = first.extensions ?? {};
    throw new ApiError(String(ext.code ?? 'GRAPHQL'), String(first.message ?? ''), res.status, ext.details?.field);
  }
  if (!res.ok || !body?.data) throw errorFrom(res, body);
  return body.data as T;
}
