// Helpers shared by the signature formats. Every comparison goes through `digestMatches`, which
// compares decoded bytes with timingSafeEqual and treats a length mismatch as a plain "no".
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Rejection, UnverifiedRequest, VerifyResult } from '../types.ts';
import { authWork } from '../work.ts';

/** A signature that matched: `expected`, the HMAC the request was checked against. */
export function signedBy(expected: Buffer): VerifyResult {
  return { ok: true, signature: expected };
}

export function rejectSignature(reason: string): Rejection {
  return { ok: false, status: 'rejected_signature', reason };
}

export function missingHeader(header: string): Rejection {
  return { ok: false, status: 'rejected_no_auth', reason: `${header}: header missing` };
}

/** The trimmed header value, or undefined when absent or blank. */
export function headerValue(request: UnverifiedRequest, name: string): string | undefined {
  const value = request.headers[name]?.trim();
  return value ? value : undefined;
}

/** HMAC-SHA256 over the parts in order (strings as utf8, buffers as-is, so the raw body is never re-encoded). */
export function hmacSha256(key: string | Buffer, ...parts: (string | Buffer)[]): Buffer {
  authWork.bodyMacs++;
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

export function digestMatches(expected: Buffer, presented: Buffer | null): boolean {
  return presented !== null && presented.length === expected.length && timingSafeEqual(presented, expected);
}

/** Strict hex decode (either case); null for anything that is not whole bytes of hex. */
export function decodeHex(text: string): Buffer | null {
  return /^(?:[0-9a-fA-F]{2})+$/.test(text) ? Buffer.from(text, 'hex') : null;
}

/** Strict base64 decode (standard or url-safe alphabet, padding optional); Buffer.from alone skips junk silently. */
export function decodeBase64(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) return null;
  return Buffer.from(text, 'base64');
}

const FRESH: VerifyResult = { ok: true };

/**
 * Checks a unix timestamp header value against `now`, in both directions, so a captured request
 * cannot be replayed later and a forged future timestamp buys no extra replay window.
 * `allowMilliseconds` accepts epoch-ms values (anything above 1e12) for senders that use them.
 */
export function checkTimestamp(
  header: string,
  text: string,
  now: Date,
  toleranceSeconds: number,
  allowMilliseconds = false,
): VerifyResult {
  if (!/^\d{1,16}$/.test(text)) return rejectSignature(`${header}: timestamp is not a unix time`);
  let seconds = Number(text);
  if (allowMilliseconds && seconds > 1e12) seconds /= 1000;
  if (Math.abs(now.getTime() / 1000 - seconds) > toleranceSeconds) {
    return rejectSignature(`${header}: timestamp ${text} is outside the ${toleranceSeconds} s tolerance`);
  }
  return FRESH;
}
