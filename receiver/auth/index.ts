// The single gate between an UnverifiedRequest and a VerifiedRequest.
//
// Every refusal costs the same, whatever the scheme, the webhook or where the check stopped (a
// missing header, a stale timestamp, an address not allowed, no webhook at all): a caller must
// not learn from the time of a 401 whether a tenant or a webhook exists, nor how it is set up.
// The costs that depend on the request are HMAC passes over its body and hashes of a presented
// token (./work.ts counts them); a refusal is brought up to REFUSAL_WORK of each, with a key
// nobody has, after whatever its check did. A request with no webhook to check against is
// checked as the scheme its headers name would check it (authenticateDecoy), so even the
// parsing is a real verifier's.
import { randomBytes } from 'node:crypto';
import { authConfigSchema, type AuthConfig } from '../../core/webhookConfig.ts';
import { hashToken } from '../../core/crypto.ts';
import { tokenMatches } from './schemes/bearer.ts';
import { authSchemes } from './schemes/index.ts';
import { hmacSha256 } from './signatures/common.ts';
import type { AuthScheme, Rejection, RejectionStatus, ResolvedSecret, UnverifiedRequest, VerifiedRequest } from './types.ts';
import { authWork } from './work.ts';

export { hashToken } from '../../core/crypto.ts';

const failureStatus: Record<AuthConfig['auth_type'], RejectionStatus> = {
  hmac_sha256: 'rejected_signature',
  bearer: 'rejected_bearer',
  ip_allowlist: 'rejected_ip',
  path_token: 'rejected_bearer',
};

/**
 * What every refusal costs: two HMAC passes over the body (a webhook in a secret rotation's
 * grace period tries its two live secrets) and one token hash. A webhook with more live secrets
 * at once (rotated again within a grace period) costs a pass more per secret: the one case left.
 */
export const REFUSAL_WORK = { bodyMacs: 2, tokenHashes: 1 } as const;

const PAD_KEY = randomBytes(32);
const PAD_DIGEST: ResolvedSecret[] = [{ kind: 'sha256', digest: hashToken(randomBytes(32).toString('base64url')) }];

export function authenticate(
  request: UnverifiedRequest,
  config: AuthConfig,
  secrets: readonly ResolvedSecret[],
  now = new Date(),
): { ok: true; request: VerifiedRequest; signature?: Buffer } | Rejection {
  const macs = authWork.bodyMacs;
  const hashes = authWork.tokenHashes;
  // The map is keyed by auth_type, so the scheme always matches the config's variant.
  const scheme = authSchemes[config.auth_type] as AuthScheme;
  let result;
  try {
    result = scheme.verify(request, config, secrets, now);
  } catch (error) {
    // Verifiers are written not to throw; if one does, the request is refused, not a 500.
    const message = error instanceof Error ? error.message : String(error);
    result = { ok: false, status: failureStatus[config.auth_type], reason: `${config.auth_type} verifier failed: ${message}` } as const;
  }
  if (result.ok) return { ok: true, request: request as VerifiedRequest, ...(result.signature ? { signature: result.signature } : {}) };
  for (let i = authWork.bodyMacs - macs; i < REFUSAL_WORK.bodyMacs; i++) hmacSha256(PAD_KEY, request.rawBody);
  for (let i = authWork.tokenHashes - hashes; i < REFUSAL_WORK.tokenHashes; i++) tokenMatches(request.headers.authorization ?? '', PAD_DIGEST);
  return result;
}

// The decoys: one config per scheme a request's headers can name, and secrets of both kinds
// that nobody has.
const decoy = (auth: Record<string, unknown>): AuthConfig => authConfigSchema.parse(auth);
const DECOYS = {
  hex: decoy({ auth_type: 'hmac_sha256' }),
  github: decoy({ auth_type: 'hmac_sha256', signature_format: 'github' }),
  stripe: decoy({ auth_type: 'hmac_sha256', signature_format: 'stripe' }),
  slack: decoy({ auth_type: 'hmac_sha256', signature_format: 'slack' }),
  standardWebhooks: decoy({ auth_type: 'hmac_sha256', signature_format: 'standard-webhooks' }),
  bearer: decoy({ auth_type: 'bearer' }),
};
const DECOY_SECRETS: ResolvedSecret[] = [
  { kind: 'plaintext', value: `whsec_${randomBytes(32).toString('base64')}` },
  { kind: 'sha256', digest: hashToken(randomBytes(32).toString('base64url')) },
];

/** The scheme a request's headers name (hex HMAC in X-Signature when they name none). */
function decoyFor(headers: UnverifiedRequest['headers']): AuthConfig {
  if (headers['stripe-signature'] !== undefined) return DECOYS.stripe;
  if (headers['webhook-signature'] !== undefined || headers['svix-signature'] !== undefined) return DECOYS.standardWebhooks;
  if (headers['x-hub-signature-256'] !== undefined) return DECOYS.github;
  if (headers['x-slack-signature'] !== undefined) return DECOYS.slack;
  if (headers['x-signature'] === undefined && headers.authorization !== undefined) return DECOYS.bearer;
  return DECOYS.hex;
}

/**
 * Checks a request that has no webhook to check against (unknown tenant or webhook, an inactive
 * one, a tenant whose inbound webhooks are off) as a webhook of the scheme its headers name
 * would, against secrets nobody has: a refusal, after a refusal's work.
 */
export function authenticateDecoy(request: UnverifiedRequest, now = new Date()): Rejection {
  const result = authenticate(request, decoyFor(request.headers), DECOY_SECRETS, now);
  return result.ok ? { ok: false, status: 'rejected_signature', reason: 'decoy' } : result;
}
