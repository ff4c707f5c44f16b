// HMAC schemes: the configured format does the work; each live plaintext secret is tried in turn
// because during a rotation the sender may still sign with the old one.
import type { HmacAuthConfig } from '../../../core/webhookConfig.ts';
import { signatureFormats } from '../signatures/index.ts';
import type { AuthScheme, Rejection } from '../types.ts';

export const hmacSha256Scheme: AuthScheme<HmacAuthConfig> = {
  authType: 'hmac_sha256',
  verify(request, config, secrets, now) {
    const format = signatureFormats[config.signature_format];
    const options = {
      header: config.signature_header ?? format.defaultHeader,
      timestampHeader: config.timestamp_header,
      toleranceSeconds: config.tolerance_seconds,
      now,
    };
    let firstRejection: Rejection | undefined;
    for (const secret of secrets) {
      if (secret.kind !== 'plaintext') continue;
      const result = format.verify(request, secret.value, options);
      if (result.ok) return result;
      firstRejection ??= result;
    }
    return firstRejection ?? { ok: false, status: 'rejected_signature', reason: 'no signing secret is configured' };
  },
};
