// Base64 HMAC-SHA256 of the body: Xero (`x-xero-signature`), QuickBooks (`intuit-signature`).
import type { SignatureFormat } from '../types.ts';
import { signedBy, decodeBase64, digestMatches, headerValue, hmacSha256, missingHeader, rejectSignature } from './common.ts';

export const base64Format: SignatureFormat = {
  name: 'base64',
  defaultHeader: 'x-signature',
  verify(request, secret, { header }) {
    const value = headerValue(request, header);
    if (value === undefined) return missingHeader(header);
    const presented = decodeBase64(value);
    if (presented === null) return rejectSignature(`${header}: signature is not base64`);
    const expected = hmacSha256(secret, request.rawBody);
    return digestMatches(expected, presented)
      ? signedBy(expected)
      : rejectSignature(`${header}: signature does not match`);
  },
};
