// Standard Webhooks (https://www.standardwebhooks.com), as svix, GitLab and Make send it:
// `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> [v1,<base64> …]` over
// `${id}.${timestamp}.${rawBody}`, keyed with the base64 bytes after `whsec_`.
// svix's own `svix-*` header names are accepted when the `webhook-*` signature header is absent.
import type { SignatureFormat, UnverifiedRequest } from '../types.ts';
import {
  signedBy, checkTimestamp, decodeBase64, digestMatches, headerValue, hmacSha256, missingHeader, rejectSignature,
} from './common.ts';

const DEFAULT_HEADER = 'webhook-signature';

/** Picks the header family: svix-* only when the default webhook-signature header is absent and svix-signature is present. */
function headerNames(request: UnverifiedRequest, header: string, timestampHeader: string | undefined) {
  const svix = header === DEFAULT_HEADER && headerValue(request, header) === undefined && headerValue(request, 'svix-signature') !== undefined;
  const prefix = svix ? 'svix' : 'webhook';
  return {
    signature: svix ? 'svix-signature' : header,
    id: `${prefix}-id`,
    timestamp: timestampHeader ?? `${prefix}-timestamp`,
  };
}

export const standardWebhooksFormat: SignatureFormat = {
  name: 'standard-webhooks',
  defaultHeader: DEFAULT_HEADER,
  verify(request, secret, { header, timestampHeader, toleranceSeconds, now }) {
    const names = headerNames(request, header, timestampHeader);
    const value = headerValue(request, names.signature);
    if (value === undefined) return missingHeader(names.signature);
    const id = headerValue(request, names.id);
    if (id === undefined) return rejectSignature(`${names.id}: header missing`);
    const timestamp = headerValue(request, names.timestamp);
    if (timestamp === undefined) return rejectSignature(`${names.timestamp}: timestamp header missing`);

    const fresh = checkTimestamp(names.timestamp, timestamp, now, toleranceSeconds);
    if (!fresh.ok) return fresh;

    const key = decodeBase64(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
    if (key === null || key.length === 0) return rejectSignature('configured secret is not whsec_<base64>');

    const expected = hmacSha256(key, `${id}.${timestamp}.`, request.rawBody);
    for (const entry of value.split(/\s+/)) {
      const comma = entry.indexOf(',');
      if (comma < 0 || entry.slice(0, comma) !== 'v1') continue; // other versions (e.g. v1a) are not HMAC
      if (digestMatches(expected, decodeBase64(entry.slice(comma + 1)))) return signedBy(expected);
    }
    return rejectSignature(`${names.signature}: no v1 signature matches`);
  },
};
