// What an outbound subscription may be, checked in Node before the SQL API stores it (GraphQL,
// REST and the CLI share it): an https URL (http only when the operator allows it) whose host
// is not, and does not resolve only to, an address Intake may not reach (core/outboundAddress.ts;
// checked again on every attempt), known event types or "entity.*" / "*", custom headers that
// are valid HTTP and never webhook-* (those are the signature's), an optional rate limit.
import { z } from 'zod';
import { UserError } from './errors.ts';
import type { Env } from './env.ts';
import { checkDestination, parseAllowCidrs, RefusedAddressError, type Cidr } from './outboundAddress.ts';
import { eventPatternProblem } from './outboundEvents.ts';

export interface OutboundPolicy {
  /** INTAKE_OUTBOUND_ALLOW_HTTP */
  allowHttp: boolean;
  /** INTAKE_OUTBOUND_ALLOW_CIDRS */
  allowCidrs: readonly Cidr[];
}

/** The operator's settings (INTAKE_OUTBOUND_ALLOW_HTTP, INTAKE_OUTBOUND_ALLOW_CIDRS) as a policy. */
export function outboundPolicyOf(outbound: Env['outbound']): OutboundPolicy {
  return { allowHttp: outbound.allowHttp, allowCidrs: parseAllowCidrs(outbound.allowCidrs) };
}

export interface SubscriptionConfig {
  url: string;
  description: string | null;
  event_types: string[];
  headers: Record<string, string>;
  rate_limit_per_minute: number | null;
  is_active: boolean;
}

/** secret rotation: how long the old secrets go on signing, by default and at most */
export const DEFAULT_OVERLAP_SECONDS = 86_400;
export const MAX_OVERLAP_SECONDS = 7 * 86_400;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** set by Intake on every attempt: a custom header may not replace them */
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'user-agent', 'transfer-encoding', 'connection']);

const configSchema = z.object({
  url: z.string().min(1, 'url: required').max(2048, 'url: at most 2048 characters'),
  description: z.string().max(1000, 'description: at most 1000 characters').nullable().default(null),
  event_types: z.array(z.string().min(1)).min(1, 'eventTypes: at least one event type (or "*")').max(100),
  headers: z.record(z.string(), z.string().max(4096)).default({}),
  rate_limit_per_minute: z.int().min(1).max(100_000).nullable().default(null),
  is_active: z.boolean().default(true),
}).strict();

const FIELD_NAMES: Record<string, string> = { event_types: 'eventTypes', rate_limit_per_minute: 'rateLimitPerMinute', is_active: 'isActive' };

function fail(field: string, message: string): never {
  throw new UserError('validation', `${field}: ${message}`, { field });
}

/** Checks the shape and the rules that need no network; the URL's address is checked by checkSubscription. */
export function parseSubscriptionConfig(raw: unknown, policy: OutboundPolicy): SubscriptionConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? 'input');
    const field = FIELD_NAMES[key] ?? key;
    const message = issue.message.includes(': ') ? issue.message.slice(issue.message.indexOf(': ') + 2) : issue.message;
    fail(field, issue.code === 'unrecognized_keys' ? `not a subscription setting: ${(issue as { keys: string[] }).keys.join(', ')}` : message);
  }
  const config = parsed.data as SubscriptionConfig;
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    fail('url', `not a URL: "${config.url}"`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    fail('url', url.protocol === 'http:' ? 'must be https (an operator may allow http with INTAKE_OUTBOUND_ALLOW_HTTP=true)' : `must be https, not ${url.protocol}`);
  }
  if (url.username || url.password) fail('url', 'may not carry credentials; use a custom header');
  const types = [...new Set(config.event_types.map((t) => t.trim()))];
  for (const type of types) {
    const problem = eventPatternProblem(type);
    if (problem) fail('eventTypes', problem);
  }
  for (const [name, value] of Object.entries(config.headers)) {
    if (!HEADER_NAME.test(name)) fail('headers', `"${name}" is not a valid header name`);
    const lower = name.toLowerCase();
    if (lower.startsWith('webhook-')) fail('headers', `${lower} is reserved (Intake signs with webhook-id, webhook-timestamp, webhook-signature)`);
    if (RESERVED_HEADERS.has(lower)) fail('headers', `${lower} is set by Intake`);
    if (/[\r\n\0]/.test(value)) fail('headers', `the value of ${name} may not contain line breaks`);
  }
  return { ...config, url: url.toString(), event_types: types };
}

/** parseSubscriptionConfig plus the save-time address check (the send-time one is on the dialled address). */
export async function checkSubscription(raw: unknown, policy: OutboundPolicy): Promise<SubscriptionConfig> {
  const config = parseSubscriptionConfig(raw, policy);
  try {
    await checkDestination(new URL(config.url), policy.allowCidrs);
  } catch (error) {
    if (error instanceof RefusedAddressError) fail('url', error.message);
    throw error;
  }
  return config;
}

/** A stored row as the input shape, so a patch can be applied to it and checked as a whole. */
export function subscriptionConfigFromRow(row: Record<string, any>): SubscriptionConfig {
  return {
    url: row.url,
    description: row.description ?? null,
    event_types: row.event_types,
    headers: row.headers ?? {},
    rate_limit_per_minute: row.rate_limit_per_minute ?? null,
    is_active: row.is_active,
  };
}

/** The AAD a subscription's signing secret is sealed with (core/crypto.ts). */
export function subscriptionSecretContext(tenant: string, subscriptionId: string): string {
  return `intake:outbound-secret:${tenant}:${subscriptionId}`;
}
