// Slack: `X-Slack-Signature: v0=<hex>` over `v0:${timestamp}:${rawBody}`, timestamp in
// `X-Slack-Request-Timestamp` (unix seconds).
import type { SignatureFormat } from '../types.ts';
import { signedBy, checkTimestamp, decodeHex, digestMatches, headerValue, hmacSha256, missingHeader, rejectSignature } from './common.ts';

export const slackFormat: SignatureFormat = {
  name: 'slack',
  defaultHeader: 'x-slack-signature',
  verify(request, secret, { header, timestampHeader = 'x-slack-request-timestamp', toleranceSeconds, now }) {
    const value = headerValue(request, header);
    if (value === undefined) return missingHeader(header);
    if (!value.startsWith('v0=')) return rejectSignature(`${header}: missing v0= prefix`);
    const presented = decodeHex(value.slice(3));
    if (presented === null) return rejectSignature(`${header}: signature is not hex`);

    const timestamp = headerValue(request, timestampHeader);
    if (timestamp === undefined) return rejectSignature(`${timestampHeader}: timestamp header missing`);
    const fresh = checkTimestamp(timestampHeader, timestamp, now, toleranceSeconds);
    if (!fresh.ok) return fresh;

    const expected = hmacSha256(secret, `v0:${timestamp}:`, request.rawBody);
    return digestMatches(expected, presented)
      ? signedBy(expected)
      : rejectSignature(`${header}: signature does not match`);
  },
};
