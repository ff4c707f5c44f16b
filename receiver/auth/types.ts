// The shapes every authentication scheme shares. A request is `UnverifiedRequest` until
// `authenticate()` (receiver/auth/index.ts) says otherwise; only that function can mint a
// `VerifiedRequest`, and only a `VerifiedRequest` is accepted by the code that writes a delivery.
import type { AuthConfig } from '../../core/webhookConfig.ts';

export interface UnverifiedRequest {
  readonly method: string;
  /** path without the query string */
  readonly path: string;
  /** parsed query string (first value of each key) */
  readonly query: Readonly<Record<string, string>>;
  /** header names lower-cased; repeated headers joined with ", " as Node does */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** the exact bytes received: signatures are computed over these, never a re-serialization */
  readonly rawBody: Buffer;
  /** client address after the trusted-proxy rule (see receiver/clientIp.ts) */
  readonly sourceIp: string;
  /** the full public URL the sender posted to (some schemes sign it) */
  readonly url: string;
  readonly receivedAt: Date;
}

declare const verified: unique symbol;

/** A request whose authentication passed. Constructed only in receiver/auth/index.ts. */
export type VerifiedRequest = UnverifiedRequest & { readonly [verified]: true };

export type RejectionStatus = 'rejected_signature' | 'rejected_bearer' | 'rejected_ip' | 'rejected_no_auth';
export type AuthStatus = 'verified' | RejectionStatus;

/** Why a request was refused. `reason` goes to the rejection log, never to the sender. */
export interface Rejection {
  readonly ok: false;
  readonly status: RejectionStatus;
  readonly reason: string;
}
/**
 * `signature`: for an HMAC scheme, the signature that matched (the HMAC over exactly what the
 * sender signed): the same signed request again has the same one (replay detection).
 */
export type VerifyResult = { readonly ok: true; readonly signature?: Buffer } | Rejection;

/**
 * A secret as the verifier needs it: the plaintext for HMAC schemes (decrypted from
 * intake_private), or the SHA-256 of the token for bearer/path-token schemes, which are stored
 * hashed. Several may be live at once while a rotated secret is in its grace period.
 */
export type ResolvedSecret =
  | { readonly kind: 'plaintext'; readonly value: string }
  | { readonly kind: 'sha256'; readonly digest: Buffer };

/** One implementation per auth scheme. */
export interface AuthScheme<C extends AuthConfig = AuthConfig> {
  readonly authType: C['auth_type'];
  verify(request: UnverifiedRequest, config: C, secrets: readonly ResolvedSecret[], now: Date): VerifyResult;
}

/** One implementation per HMAC signature format (receiver/auth/signatures/*.ts). */
export interface SignatureFormat {
  readonly name: string;
  /** the header the sender uses when the webhook names none (lower-case) */
  readonly defaultHeader: string;
  /**
   * Checks the request against one secret. Timestamped formats check `toleranceSeconds`
   * against `now` and reject stale or future requests.
   */
  verify(
    request: UnverifiedRequest,
    secret: string,
    options: { header: string; timestampHeader?: string | undefined; toleranceSeconds: number; now: Date },
  ): VerifyResult;
}
