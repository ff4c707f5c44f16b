// A token in the query string, for senders that can set neither a header nor a signature.
// Stored and compared hashed, like bearer tokens.
import type { AuthConfig } from '../../../core/webhookConfig.ts';
import type { AuthScheme } from '../types.ts';
import { tokenMatches } from './bearer.ts';

type PathTokenAuthConfig = Extract<AuthConfig, { auth_type: 'path_token' }>;

export const pathTokenScheme: AuthScheme<PathTokenAuthConfig> = {
  authType: 'path_token',
  verify(request, config, secrets) {
    const param = config.query_param;
    const token = request.query[param];
    if (!token) return { ok: false, status: 'rejected_no_auth', reason: `query parameter ${param} missing` };
    return tokenMatches(token, secrets)
      ? { ok: true }
      : { ok: false, status: 'rejected_bearer', reason: `query parameter ${param}: token does not match` };
  },
};
