// Plain hex HMAC-SHA256 of the body (Sentry, PagerDuty, Grafana and many custom senders).
// PagerDuty sends `v1=<hex>`, several comma-separated while a secret rotates; others send
// `sha256=<hex>` or bare hex. Grafana, when a timestamp header is configured, signs `ts:body`.
import type { SignatureFormat } from '../types.ts';
import { signedBy, checkTimestamp, decodeHex, digestMatches, headerValue, hmacSha256, missingHeader, rejectSignature } from './common.ts';

export const hexFormat: SignatureFormat = {
  name: 'hex',
  defaultHeader: 'x-signature',
  verify(request, secret, { header, timestampHeader, toleranceSeconds, now }) {
    const value = headerValue(request, header);
    if (value === undefined) return missingHeader(header);

    let expected: Buffer;
    if (timestampHeader) {
      const timestamp = headerValue(request, timestampHeader);
      if (timestamp === undefined) return rejectSignature(`${timestampHeader}: timestamp header missing`);
      const fresh = checkTimestamp(timestampHeader, timestamp, now, toleranceSeconds, true);
      if (!fresh.ok) return fresh;
      expected = hmacSha256(secret, `${timestamp}:`, request.rawBody);
    } else {
      expected = hmacSha256(secret, request.rawBody);
    }

    const candidates = value.split(',').map((c) => c.trim().replace(/^(?:v1|sha256)=/i, ''));
    if (candidates.some((c) => digestMatches(expected, decodeHex(c)))) return signedBy(expected);
    return rejectSignature(
      candidates.every((c) => decodeHex(c) === null) ? `${header}: signature is not hex` : `${header}: signature does not match`,
    );
  },
};
