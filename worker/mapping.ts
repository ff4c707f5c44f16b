// A webhook's field mapping, compiled once per config version and evaluated per delivery.
import { compileExpression, type CompiledExpression } from '../core/jsonata.ts';

interface CompiledMapping {
  configVersion: number;
  fields: [string, CompiledExpression][];
}

const cache = new Map<string, CompiledMapping>();

export function compiledMapping(
  inboundWebhookId: string,
  configVersion: number,
  fieldMapping: Record<string, string>,
  timeoutMs: number,
): CompiledMapping {
  const hit = cache.get(inboundWebhookId);
  if (hit && hit.configVersion === configVersion) return hit;
  const fields = Object.entries(fieldMapping).map(([field, source]): [string, CompiledExpression] => {
    try {
      return [field, compileExpression(source, { timeoutMs })];
    } catch (error) {
      throw new Error(`mapping for field "${field}": ${(error as Error).message}`);
    }
  });
  const compiled = { configVersion, fields };
  cache.set(inboundWebhookId, compiled);
  return compiled;
}

/** Evaluates every field's expression against the body; the message names the failing field. */
export async function evaluateMapping(mapping: CompiledMapping, body: unknown): Promise<Record<string, unknown>> {
  const values: Record<string, unknown> = {};
  for (const [field, expression] of mapping.fields) {
    try {
      const value = await expression.evaluate(body);
      if (value !== undefined) values[field] = value;
    } catch (error) {
      throw new Error(`mapping for field "${field}": ${(error as Error).message}`);
    }
  }
  return values;
}
