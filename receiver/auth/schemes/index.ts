import type { AuthConfig, AuthType } from '../../../core/webhookConfig.ts';
import type { AuthScheme } from '../types.ts';
import { bearerScheme } from './bearer.ts';
import { hmacSha256Scheme } from './hmacSha256.ts';
import { ipAllowlistScheme } from './ipAllowlist.ts';
import { pathTokenScheme } from './pathToken.ts';

export const authSchemes: { readonly [K in AuthType]: AuthScheme<Extract<AuthConfig, { auth_type: K }>> } = {
  hmac_sha256: hmacSha256Scheme,
  bearer: bearerScheme,
  ip_allowlist: ipAllowlistScheme,
  path_token: pathTokenScheme,
};
