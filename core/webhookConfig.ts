// The one zod source of truth for a webhook's configuration. The CLI validates with it today;
// GraphQL and REST validate with it later, so a rule written here holds on every path.
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

export const SIGNATURE_FORMATS = ['hex', 'base64', 'github', 'stripe', 'slack', 'standard-webhooks'] as const;
export type SignatureFormatName = (typeof SIGNATURE_FORMATS)[number];

export const AUTH_TYPES = ['hmac_sha256', 'bearer', 'ip_allowlist', 'path_token'] as const;
export type AuthType = (typeof AUTH_TYPES)[number];

/**
 * integration_type values that bundled integrations write into tenant_external_entity_mappings.
 * User webhooks are namespaced (`webhook:<slug>`) so they could never collide, but a slug equal
 * to one of these would still confuse anyone reading the mappings table, so it is refused.
 */
export const RESERVED_SLUGS = [
  'ninjaone', 'tactical_rmm', 'tactical-rmm', 'tacticalrmm', 'tanium', 'xero', 'qbo', 'quickbooks',
  'entra', 'microsoft_graph', 'microsoft-graph', 'google', 'intake', 'webhook', 'api', 'admin',
] as const;

export const slugSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$/, 'must be lowercase letters, digits, "-" or "_", starting and ending with a letter or digit');

export const webhookSlugSchema = slugSchema.refine((s) => !(RESERVED_SLUGS as readonly string[]).includes(s), {
  error: (issue) => `"${String(issue.input)}" is reserved for a bundled integration; choose another slug`,
});

/** A CIDR (or a bare address, taken as /32 or /128), IPv4 or IPv6. */
export const cidrSchema = z.string().trim().refine((value) => parseCidr(value) !== null, {
  message: 'must be an IPv4 or IPv6 address or CIDR, e.g. 203.0.113.0/24 or 2001:db8::/32',
});

export function parseCidr(value: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  const [address = '', prefixText, ...rest] = value.split('/');
  if (rest.length > 0) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
    return null;
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

export function blockListFrom(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr);
    if (!parsed) throw new Error(`invalid CIDR: ${cidr}`);
    list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return list;
}

const headerName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a valid HTTP header name')
  .transform((h) => h.toLowerCase());

export const hmacAuthSchema = z.object({
  auth_type: z.literal('hmac_sha256'),
  signature_format: z.enum(SIGNATURE_FORMATS).default('hex'),
  /** Header that carries the signature; each format has its sender's default. */
  signature_header: headerName.optional(),
  /** Header with the signing timestamp, for formats that sign one (slack; optional for hex). */
  timestamp_header: headerName.optional(),
  tolerance_seconds: z.int().min(1).max(86_400).default(300),
});

export const bearerAuthSchema = z.object({
  auth_type: z.literal('bearer'),
  /** `authorization` expects `Bearer <token>`; any other header carries the bare token. */
  header: headerName.default('authorization'),
});

export const ipAllowlistAuthSchema = z.object({
  auth_type: z.literal('ip_allowlist'),
  cidrs: z.array(cidrSchema).min(1, 'needs at least one CIDR'),
});

export const pathTokenAuthSchema = z.object({
  auth_type: z.literal('path_token'),
  query_param: z.string().trim().regex(/^[A-Za-z0-9_-]{1,64}$/).default('token'),
});

export const authConfigSchema = z.discriminatedUnion('auth_type', [
  hmacAuthSchema,
  bearerAuthSchema,
  ipAllowlistAuthSchema,
  pathTokenAuthSchema,
]);
export type AuthConfig = z.infer<typeof authConfigSchema>;
export type HmacAuthConfig = z.infer<typeof hmacAuthSchema>;

/**
 * Whether the webhook's signature covers a timestamp (checked against tolerance_seconds): then a
 * request with the same signature is never a sender's new event, only a replay.
 */
export function signsTimestamp(auth: AuthConfig): boolean {
  if (auth.auth_type !== 'hmac_sha256') return false;
  return auth.signature_format === 'stripe' || auth.signature_format === 'slack' || auth.signature_format === 'standard-webhooks'
    || (auth.signature_format === 'hex' && auth.timestamp_header !== undefined);
}

export const idempotencySourceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('header'), value: headerName }),
  z.object({ type: z.literal('jsonata'), value: z.string().trim().min(1).max(2000) }),
]);
export type IdempotencySource = z.infer<typeof idempotencySourceSchema>;

/**
 * The idempotency source of a webhook whose admin set none: the delivery id its sender's
 * signature format carries, unique per event and repeated on the sender's retries — GitHub's
 * X-GitHub-Delivery, Standard Webhooks' webhook-id (Svix, GitLab signing tokens, Make, …),
 * Stripe's event id (body `id`, evt_…). A source the admin chose always wins. Other formats
 * carry no id the receiver can be sure of, so they have no default.
 */
export function defaultIdempotencySource(auth: AuthConfig): IdempotencySource | null {
  if (auth.auth_type !== 'hmac_sha256') return null;
  switch (auth.signature_format) {
    case 'github':
      return { type: 'header', value: 'x-github-delivery' };
    case 'standard-webhooks':
      return { type: 'header', value: 'webhook-id' };
    case 'stripe':
      return { type: 'jsonata', value: 'id' };
    default:
      return null;
  }
}

export const directActionHandlerSchema = z.object({
  handler_type: z.literal('direct_action'),
  action: z.string().trim().min(1),
  /** target field → JSONata expression over the request body */
  field_mapping: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, 'field names are snake_case'), z.string().trim().min(1).max(10_000)),
});

export const workflowHandlerSchema = z.object({
  handler_type: z.literal('workflow'),
  workflow_id: z.uuid(),
});

export const handlerConfigSchema = z.discriminatedUnion('handler_type', [directActionHandlerSchema, workflowHandlerSchema]);
export type HandlerConfig = z.infer<typeof handlerConfigSchema>;

export const webhookCreateSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(200),
  slug: webhookSlugSchema,
  description: z.string().max(2000).nullish(),
  auth: authConfigSchema,
  /** Bring your own secret (e.g. Stripe's whsec_…); otherwise one is generated. */
  secret: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
  idempotency: idempotencySourceSchema.nullish(),
  idempotency_window_seconds: z.int().min(1).max(90 * 86_400).default(86_400),
  handler: handlerConfigSchema,
  rate_limit_per_minute: z.int().min(0).max(1_000_000).default(600),
  /** integration namespace shared by a source's create and update webhooks (default: own slug) */
  mapping_namespace: slugSchema.nullish(),
  is_active: z.boolean().default(true),
});
export type WebhookCreateInput = z.input<typeof webhookCreateSchema>;
export type WebhookCreate = z.output<typeof webhookCreateSchema>;

export const tenantCreateSchema = z.object({
  slug: slugSchema,
  name: z.string().trim().min(1, 'must not be empty').max(200),
});

/** Which auth types carry a shared secret the sender presents or signs with. */
export function authNeedsSecret(authType: AuthType): boolean {
  return authType !== 'ip_allowlist';
}

/**
 * A patch of `auth` or `handler` over the current one: without its type (or with the same type)
 * it merges into the current settings (so `{field_mapping: …}` keeps the action); with another
 * type it replaces them. One rule for updates (api/webhooks.ts) and dry runs (worker/preview.ts).
 */
export function mergeTypedSetting(current: Record<string, unknown>, patch: Record<string, unknown>, typeKey: 'auth_type' | 'handler_type'): Record<string, unknown> {
  return patch[typeKey] === undefined || patch[typeKey] === current[typeKey] ? { ...current, ...patch } : patch;
}

/** Formats one line per zod issue, naming the field: `auth.cidrs.0: must be …`. */
export function formatZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'input'}: ${issue.message}`)
    .join('; ');
}
