// Bearer tokens are stored as SHA-256 digests, so the presented token is hashed and the digests
// compared: equal-length by construction, and the plaintext never has to be kept.
import { timingSafeEqual } from 'node:crypto';
import type { AuthConfig } from '../../../core/webhookConfig.ts';
import { hashToken } from '../../../core/crypto.ts';
import type { AuthScheme, ResolvedSecret, VerifyResult } from '../types.ts';
import { authWork } from '../work.ts';

type BearerAuthConfig = Extract<AuthConfig, { auth_type: 'bearer' }>;

/** Whether `token` hashes to one of the stored digests. Shared with path_token. */
export function tokenMatches(token: string, secrets: readonly ResolvedSecret[]): boolean {
  authWork.tokenHashes++;
  const presented = hashToken(token);
  return secrets.some(
    (s) => s.kind === 'sha256' && s.digest.length === presented.length && timingSafeEqual(s.digest, presented),
  );
}

export const bearerScheme: AuthScheme<BearerAuthConfig> = {
  authType: 'bearer',
  verify(request, config, secrets): VerifyResult {
    const header = config.header;
    const value = request.headers[header]?.trim();
    if (!value) return { ok: false, status: 'rejected_no_auth', reason: `${header}: header missing` };

    let token = value;
    if (header === 'authorization') {
      const match = /^bearer\s+(\S+)$/i.exec(value);
      if (match?.[1] === undefined) {
        return { ok: false, status: 'rejected_bearer', reason: 'authorization: expected "Bearer <token>"' };
      }
      token = match[1];
    }
    return tokenMatches(token, secrets)
      ? { ok: true }
      : { ok: false, status: 'rejected_bearer', reason: `${header}: token does not match` };
  },
};
