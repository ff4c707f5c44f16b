// Sending signed requests through the real receiver and waiting for their dispatch: what the
// action tests do for every case.
import { createHmac } from 'node:crypto';
import type pg from 'pg';
import type { CreatedWebhook } from '../../core/webhooks.ts';
import { makeWebhook, settledDelivery } from './server.ts';

export interface Answer {
  status: number;
  body: any;
}

/** POSTs `body` as compact JSON signed with the webhook's secret (hmac_sha256, hex, X-Signature). */
export async function postSigned(baseUrl: string, tenantSlug: string, webhookSlug: string, secret: string, body: unknown): Promise<Answer> {
  const text = JSON.stringify(body);
  const res = await fetch(`${baseUrl}/api/inbound/${tenantSlug}/${webhookSlug}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', secret).update(text).digest('hex') },
    body: text,
  });
  return { status: res.status, body: await res.json() };
}

/** A direct-action webhook (hmac_sha256, hex) with no rate limit. */
export function actionWebhook(
  pool: pg.Pool,
  tenantSlug: string,
  slug: string,
  action: string,
  fieldMapping: Record<string, string>,
  extra: { mapping_namespace?: string } = {},
): Promise<CreatedWebhook> {
  return makeWebhook(pool, tenantSlug, {
    name: slug,
    slug,
    auth: { auth_type: 'hmac_sha256' },
    rate_limit_per_minute: 0,
    handler: { handler_type: 'direct_action', action, field_mapping: fieldMapping },
    ...extra,
  });
}

/**
 * Sends one signed request and waits until the worker has settled its delivery; returns the
 * delivery row (dispatch_status, handler_outcome, error_message, …).
 */
export async function deliver(
  pool: pg.Pool,
  baseUrl: string,
  tenantSlug: string,
  hook: { secret: string | null; url: string },
  body: unknown,
): Promise<any> {
  const webhookSlug = new URL(hook.url).pathname.split('/').at(-1)!;
  const answer = await postSigned(baseUrl, tenantSlug, webhookSlug, hook.secret!, body);
  if (answer.status !== 200) throw new Error(`receiver answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return settledDelivery(pool, answer.body.delivery_id);
}
