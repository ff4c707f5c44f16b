// A webhook's field mapping, compiled once per config version and evaluated per delivery, all of
// its fields as one evaluation on core/jsonata.ts's threads (one limit, one copy of the body).
import { compileExpressions, ExpressionError, type CompiledExpressionSet } from '../core/jsonata.ts';

interface CompiledMapping {
  configVersion: number;
  fields: string[];
  expressions: CompiledExpressionSet;
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
  const entries = Object.entries(fieldMapping);
  const fields = entries.map(([field]) => field);
  let expressions: CompiledExpressionSet;
  try {
    expressions = compileExpressions(entries.map(([, source]) => source), { timeoutMs, owner: inboundWebhookId });
  } catch (error) {
    throw named(error, fields);
  }
  const compiled = { configVersion, fields, expressions };
  cache.set(inboundWebhookId, compiled);
  return compiled;
}

/** Evaluates every field's expression against the body; the message names the failing field. */
export async function evaluateMapping(mapping: CompiledMapping, body: unknown): Promise<Record<string, unknown>> {
  let results: unknown[];
  try {
    results = await mapping.expressions.evaluate(body);
  } catch (error) {
    throw named(error, mapping.fields);
  }
  const values: Record<string, unknown> = {};
  for (const [i, field] of mapping.fields.entries()) {
    if (results[i] !== undefined) values[field] = results[i];
  }
  return values;
}

/** The error with the field it concerns (or "mapping" when the evaluation as a whole failed). */
function named(error: unknown, fields: readonly string[]): ExpressionError {
  const e = error instanceof ExpressionError ? error : new ExpressionError(String(error));
  const field = e.index === undefined ? undefined : fields[e.index];
  return new ExpressionError(`${field === undefined ? 'mapping' : `mapping for field "${field}"`}: ${e.message}`, e.code, e.position, e.index);
}
