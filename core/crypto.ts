// Secrets at rest: AES-256-GCM under INTAKE_MASTER_KEY, bound to the webhook they belong to
// (the tenant and webhook ids are the additional authenticated data, so a ciphertext copied to
// another row does not decrypt). Bearer and path tokens are only ever compared, so they are
// stored as SHA-256 digests instead. `SecretBox` is the small interface another vault could
// implement.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface SecretBox {
  seal(plaintext: string, context: string): Buffer;
  open(sealed: Buffer, context: string): string;
}

const VERSION = 1;

export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    throw new Error('INTAKE_MASTER_KEY must be 32 bytes, as 64 hex characters or base64 (generate one with: openssl rand -base64 32)');
  }
  return key;
}

export function aesGcmBox(masterKey: Buffer): SecretBox {
  if (masterKey.length !== 32) throw new Error('master key must be 32 bytes');
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
    },
    open(sealed, context) {
      if (sealed.length < 29 || sealed[0] !== VERSION) throw new Error('unrecognised secret format');
      const decipher = createDecipheriv('aes-256-gcm', masterKey, sealed.subarray(1, 13));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(sealed.subarray(13, 29));
      return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]).toString('utf8');
    },
  };
}

/** The AAD a webhook's secret is sealed with. */
export function secretContext(tenant: string, inboundWebhookId: string): string {
  return `intake:webhook-secret:${tenant}:${inboundWebhookId}`;
}

/** SHA-256 of a bearer or path token: the form tokens are stored in and compared in. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Reads the master key from INTAKE_MASTER_KEY, or (embedded mode only) from `<dataDir>/master.key`,
 * generating that file on first start.
 */
export function resolveMasterKey(envValue: string | undefined, dataDir: string, embedded: boolean): Buffer {
  if (envValue) return parseMasterKey(envValue);
  if (!embedded) {
    throw new Error('INTAKE_MASTER_KEY is required when DATABASE_URL is set (generate one with: openssl rand -base64 32)');
  }
  const file = path.join(dataDir, 'master.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  return parseMasterKey(fs.readFileSync(file, 'utf8'));
}

/**
 * A new secret in the shape the sender expects: `whsec_<base64>` for Standard Webhooks and
 * Stripe-style senders, otherwise 32 random bytes as URL-safe base64.
 */
export function generateSecret(signatureFormat?: string): string {
  if (signatureFormat === 'standard-webhooks' || signatureFormat === 'stripe') {
    return 'whsec_' + randomBytes(24).toString('base64');
  }
  return randomBytes(32).toString('base64url');
}
