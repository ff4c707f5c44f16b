// What of a request's headers is kept in the delivery log (and later handed to workflows):
// everything except credentials — authorization, cookies, signatures and the webhook's own
// configured secret-bearing header.
import type { AuthConfig } from '../core/webhookConfig.ts';

const ALWAYS_DROPPED = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie',
  'x-signature', 'x-hub-signature', 'x-hub-signature-256', 'stripe-signature', 'webhook-signature', 'svix-signature',
  'x-slack-signature', 'x-gitlab-token', 'x-pagerduty-signature', 'sentry-hook-signature', 'x-xero-signature',
  'intuit-signature', 'x-square-hmacsha256-signature', 'x-square-signature', 'x-grafana-alerting-signature',
  'x-api-key', 'x-auth-token', 'x-webhook-secret', 'x-webhook-token',
]);

export function safeHeaders(headers: Readonly<Record<string, string | undefined>>, auth: AuthConfig): Record<string, string> {
  const configured = auth.auth_type === 'hmac_sha256' ? auth.signature_header : auth.auth_type === 'bearer' ? auth.header : undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || ALWAYS_DROPPED.has(name) || name === configured) continue;
    out[name] = value;
  }
  return out;
}

/** The request path with the path-token query parameter removed. */
export function safePath(path: string, query: Readonly<Record<string, string>>, auth: AuthConfig): string {
  const kept = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (auth.auth_type === 'path_token' && key === auth.query_param) continue;
    if (key === 'token') continue;
    kept.append(key, value);
  }
  const qs = kept.toString();
  return qs ? `${path}?${qs}` : path;
}
