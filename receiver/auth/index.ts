// The single gate between an UnverifiedRequest and a VerifiedRequest.
import type { AuthConfig } from '../../core/webhookConfig.ts';
import { authSchemes } from './schemes/index.ts';
import type { AuthScheme, Rejection, RejectionStatus, ResolvedSecret, UnverifiedRequest, VerifiedRequest } from './types.ts';

export { hashToken } from '../../core/crypto.ts';

const failureStatus: Record<AuthConfig['auth_type'], RejectionStatus> = {
  hmac_sha256: 'rejected_signature',
  bearer: 'rejected_bearer',
  ip_allowlist: 'rejected_ip',
  path_token: 'rejected_bearer',
};

export function authenticate(
  request: UnverifiedRequest,
  config: AuthConfig,
  secrets: readonly ResolvedSecret[],
  now = new Date(),
): { ok: true; request: VerifiedRequest } | Rejection {
  // The map is keyed by auth_type, so the scheme always matches the config's variant.
  const scheme = authSchemes[config.auth_type] as AuthScheme;
  let result;
  try {
    result = scheme.verify(request, config, secrets, now);
  } catch (error) {
    // Verifiers are written not to throw; if one does, the request is refused, not a 500.
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, status: failureStatus[config.auth_type], reason: `${config.auth_type} verifier failed: ${message}` };
  }
  if (!result.ok) return result;
  return { ok: true, request: request as VerifiedRequest };
}
