// A ready-to-run `curl` for a webhook: the request signed the way the receiver verifies it
// (receiver/auth/signatures/*), computed in the browser with Web Crypto for the secret just
// shown, so an admin can send a first request without writing any code.
export type SignatureFormat = 'hex' | 'base64' | 'github' | 'stripe' | 'slack' | 'standard-webhooks';

export interface AuthSettings {
  auth_type: string;
  signature_format?: SignatureFormat;
  signature_header?: string;
  timestamp_header?: string;
  header?: string;
  query_param?: string;
}

export const DEFAULT_SIGNATURE_HEADER: Record<SignatureFormat, string> = {
  hex: 'x-signature',
  base64: 'x-signature',
  github: 'x-hub-signature-256',
  stripe: 'stripe-signature',
  slack: 'x-slack-signature',
  'standard-webhooks': 'webhook-signature',
};

const encoder = new TextEncoder();

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export async function hmacSha256(key: Uint8Array | string, message: string): Promise<Uint8Array> {
  const keyBytes = typeof key === 'string' ? encoder.encode(key) : key;
  const cryptoKey = await crypto.subtle.importKey('raw', keyBytes as BufferSource, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', cryptoKey, encoder.encode(message) as BufferSource));
}

export interface SignedRequest {
  url: string;
  headers: [string, string][];
}

/** The headers (and URL) that authenticate `body` for this webhook at unix time `timestamp`. */
export async function signRequest(
  url: string,
  secret: string | null,
  auth: AuthSettings,
  body: string,
  timestamp: number,
  messageId = 'msg_intake_example',
): Promise<SignedRequest> {
  const headers: [string, string][] = [['content-type', 'application/json']];
  if (auth.auth_type === 'bearer') {
    const header = auth.header ?? 'authorization';
    headers.push(header === 'authorization' ? ['authorization', `Bearer ${secret ?? ''}`] : [header, secret ?? '']);
    return { url, headers };
  }
  if (auth.auth_type === 'path_token') {
    const u = new URL(url);
    u.searchParams.set(auth.query_param ?? 'token', secret ?? '');
    return { url: u.toString(), headers };
  }
  if (auth.auth_type !== 'hmac_sha256' || secret === null) return { url, headers };
  const format: SignatureFormat = auth.signature_format ?? 'hex';
  const header = auth.signature_header ?? DEFAULT_SIGNATURE_HEADER[format];
  const ts = String(timestamp);
  switch (format) {
    case 'hex':
      if (auth.timestamp_header) {
        headers.push([auth.timestamp_header, ts]);
        headers.push([header, toHex(await hmacSha256(secret, `${ts}:${body}`))]);
      } else {
        headers.push([header, toHex(await hmacSha256(secret, body))]);
      }
      break;
    case 'base64':
      headers.push([header, toBase64(await hmacSha256(secret, body))]);
      break;
    case 'github':
      headers.push([header, `sha256=${toHex(await hmacSha256(secret, body))}`]);
      break;
    case 'stripe':
      headers.push([header, `t=${ts},v1=${toHex(await hmacSha256(secret, `${ts}.${body}`))}`]);
      break;
    case 'slack': {
      const tsHeader = auth.timestamp_header ?? 'x-slack-request-timestamp';
      headers.push([tsHeader, ts]);
      headers.push([header, `v0=${toHex(await hmacSha256(secret, `v0:${ts}:${body}`))}`]);
      break;
    }
    case 'standard-webhooks': {
      const key = fromBase64(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
      headers.push(['webhook-id', messageId]);
      headers.push([auth.timestamp_header ?? 'webhook-timestamp', ts]);
      headers.push([header, `v1,${toBase64(await hmacSha256(key, `${messageId}.${ts}.${body}`))}`]);
      break;
    }
  }
  return { url, headers };
}

/** POSIX shell single-quoting: safe for any text. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function curlCommand(request: SignedRequest, body: string): string {
  const lines = [`curl -sS -X POST ${shellQuote(request.url)}`];
  for (const [name, value] of request.headers) lines.push(`  -H ${shellQuote(`${name}: ${value}`)}`);
  lines.push(`  --data-binary ${shellQuote(body)}`);
  return lines.join(' \\\n');
}

export const EXAMPLE_BODY = JSON.stringify({ event: 'test', message: 'Hello from curl', id: 'example-1' });
