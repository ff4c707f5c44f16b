// The idempotency key of a request: a header's value, or a JSONata expression over the body.
import { createHash } from 'node:crypto';
import { compileExpression, type CompiledExpression } from '../core/jsonata.ts';
import type { WebhookConfig } from './configCache.ts';

const MAX_KEY_LENGTH = 512;
const compiled = new Map<string, { version: number; expression: CompiledExpression }>();

function normalize(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  // (Postgres text cannot hold NUL, so it is dropped rather than failing the request.)
  const text = (typeof value === 'string' ? value.trim() : JSON.stringify(value)).replaceAll('\u0000', '');
  if (text === '') return null;
  // Long keys are hashed so the unique index stays small; equal inputs still collide.
  return text.length > MAX_KEY_LENGTH ? 'sha256:' + createHash('sha256').update(text).digest('hex') : text;
}

/**
 * Returns the key, or null when the source yields none (the delivery is then not deduped).
 * Throws when the expression fails, with a message for the delivery log.
 */
export async function idempotencyKey(
  webhook: WebhookConfig,
  headers: Readonly<Record<string, string | undefined>>,
  body: unknown,
  timeoutMs: number,
): Promise<string | null> {
  const source = webhook.idempotency;
  if (!source) return null;
  if (source.type === 'header') return normalize(headers[source.value]);
  let entry = compiled.get(webhook.id);
  if (!entry || entry.version !== webhook.configVersion) {
    entry = { version: webhook.configVersion, expression: compileExpression(source.value, { timeoutMs }) };
    compiled.set(webhook.id, entry);
  }
  return normalize(await entry.expression.evaluate(body));
}
