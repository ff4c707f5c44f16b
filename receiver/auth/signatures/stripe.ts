// Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…][,v0=…]` over `${t}.${rawBody}`.
// The HMAC key is the whole secret string, `whsec_` prefix included, exactly as stripe-node does.
// v0 (test-mode legacy scheme) is ignored; any v1 may match (Stripe sends one per live secret).
import type { SignatureFormat } from '../types.ts';
import { signedBy, checkTimestamp, decodeHex, digestMatches, headerValue, hmacSha256, missingHeader, rejectSignature } from './common.ts';

export const stripeFormat: SignatureFormat = {
  name: 'stripe',
  defaultHeader: 'stripe-signature',
  verify(request, secret, { header, toleranceSeconds, now }) {
    const value = headerValue(request, header);
    if (value === undefined) return missingHeader(header);

    let timestamp: string | undefined;
    const v1: string[] = [];
    for (const item of value.split(',')) {
      const eq = item.indexOf('=');
      if (eq < 0) continue;
      const key = item.slice(0, eq).trim();
      const val = item.slice(eq + 1).trim();
      if (key === 't') timestamp = val;
      else if (key === 'v1') v1.push(val);
    }
    if (timestamp === undefined) return rejectSignature(`${header}: no t= timestamp`);
    if (v1.length === 0) return rejectSignature(`${header}: no v1= signature`);

    const fresh = checkTimestamp(header, timestamp, now, toleranceSeconds);
    if (!fresh.ok) return fresh;

    const expected = hmacSha256(secret, `${timestamp}.`, request.rawBody);
    return v1.some((sig) => digestMatches(expected, decodeHex(sig)))
      ? signedBy(expected)
      : rejectSignature(`${header}: no v1 signature matches`);
  },
};
