// GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(body)>`. The prefix is required, so a
// bare hex value (or the legacy sha1= header copied over) is refused rather than guessed at.
import type { SignatureFormat } from '../types.ts';
import { signedBy, decodeHex, digestMatches, headerValue, hmacSha256, missingHeader, rejectSignature } from './common.ts';

export const githubFormat: SignatureFormat = {
  name: 'github',
  defaultHeader: 'x-hub-signature-256',
  verify(request, secret, { header }) {
    const value = headerValue(request, header);
    if (value === undefined) return missingHeader(header);
    if (!value.startsWith('sha256=')) return rejectSignature(`${header}: missing sha256= prefix`);
    const presented = decodeHex(value.slice('sha256='.length));
    if (presented === null) return rejectSignature(`${header}: signature is not hex`);
    const expected = hmacSha256(secret, request.rawBody);
    return digestMatches(expected, presented)
      ? signedBy(expected)
      : rejectSignature(`${header}: signature does not match`);
  },
};
