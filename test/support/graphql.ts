// A small GraphQL-over-HTTP client for the management API tests, and users with API keys made
// the way `intake user create` / `intake api-key create` make them.
import type pg from 'pg';
import { createApiKey, createUser } from '../../core/access.ts';

export interface GraphqlAnswer<T = any> {
  status: number;
  data: T | null | undefined;
  errors: { message: string; path?: (string | number)[]; extensions?: { code?: string; [k: string]: unknown } }[] | undefined;
  body: any;
}

export function graphqlClient(baseUrl: string, apiKey: string | null) {
  return async function request<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<GraphqlAnswer<T>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
    if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
    const res = await fetch(`${baseUrl}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    const text = await res.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, data: body?.data, errors: body?.errors, body };
  };
}
export type GraphqlRequest = ReturnType<typeof graphqlClient>;

/** Data of a request that must succeed (no errors). */
export async function ok<T = any>(request: GraphqlRequest, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const answer = await request<T>(query, variables);
  if (answer.status !== 200 || answer.errors) {
    throw new Error(`GraphQL request failed (${answer.status}): ${JSON.stringify(answer.body)}`);
  }
  return answer.data as T;
}

/** The code (extensions.code) and message of a request that must fail with exactly one error. */
export async function failure(request: GraphqlRequest, query: string, variables: Record<string, unknown> = {}) {
  const answer = await request(query, variables);
  if (!answer.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(answer.body)}`);
  const [error] = answer.errors;
  return { code: error!.extensions?.code, message: error!.message, data: answer.data };
}

let counter = 0;

/** A user of the tenant with one role, and an API key acting as them. */
export async function userWithKey(pool: pg.Pool, tenantSlug: string, role: string): Promise<{ userId: string; email: string; key: string }> {
  const email = `${role}-${++counter}@${tenantSlug}.example`;
  const client = await pool.connect();
  try {
    const user = await createUser(client, tenantSlug, { email, role });
    const { api_key } = await createApiKey(client, tenantSlug, email);
    return { userId: user.user_id, email, key: api_key };
  } finally {
    client.release();
  }
}
