// A webhook's field mapping, compiled once per config version and evaluated per delivery, all of
// its fields as one evaluation on core/jsonata.ts's threads (one limit, one copy of the body).
// The dry run (./preview.ts) compiles a draft the same way, uncached, and reads every field's
// own result of the same evaluation (evaluateMappingFields).
import { compileExpressions, ExpressionError, type CompiledExpressionSet } from '../core/jsonata.ts';

export interface CompiledMapping {
  configVersion: number;
  fields: string[];
  expressions: CompiledExpressionSet;
}

const cache = new Map<string, CompiledMapping>();

/** Parses every field's expression; throws an ExpressionError naming the first bad field. */
export function compileMapping(owner: string, configVersion: number, fieldMapping: Record<string, string>, timeoutMs: number): CompiledMapping {
  const entries = Object.entries(fieldMapping);
  const fields = entries.map(([field]) => field);
  let expressions: CompiledExpressionSet;
  try {
    expressions = compileExpressions(entries.map(([, source]) => source), { timeoutMs, owner });
  } catch (error) {
    throw named(error, fields);
  }
  return { configVersion, fields, expressions };
}

/**
 * The webhook's mapping of that config version, from the cache when it holds that version. The
 * cache keeps the newest version it has seen per webhook: a replay with an older configuration
 * (its dispatched version) compiles that one without evicting the current.
 */
export function compiledMapping(
  inboundWebhookId: string,
  configVersion: number,
  fieldMapping: Record<string, string>,
  timeoutMs: number,
): CompiledMapping {
  const hit = cache.get(inboundWebhookId);
  if (hit && hit.configVersion === configVersion) return hit;
  const compiled = compileMapping(inboundWebhookId, configVersion, fieldMapping, timeoutMs);
  if (!hit || hit.configVersion < configVersion) cache.set(inboundWebhookId, compiled);
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

export type FieldResult = { field: string; value: unknown } | { field: string; error: ExpressionError };

/**
 * The same evaluation as evaluateMapping, with each field's own value (undefined: no value) or
 * error, its message as evaluateMapping would throw it. When the evaluation as a whole fails
 * (its time limit), the field it stopped in gets the error and the others are not evaluated.
 */
export async function evaluateMappingFields(mapping: CompiledMapping, body: unknown): Promise<FieldResult[]> {
  try {
    const results = await mapping.expressions.evaluateEach(body);
    return mapping.fields.map((field, i) => {
      const result = results[i]!;
      return result.ok ? { field, value: result.value } : { field, error: named(result.error, mapping.fields) };
    });
  } catch (error) {
    const failed = named(error, mapping.fields);
    return mapping.fields.map((field, i) => ({
      field,
      error: failed.index === undefined || failed.index === i
        ? failed
        : new ExpressionError(`not evaluated: the evaluation stopped: ${failed.message}`, failed.code, undefined, i),
    }));
  }
}

/** The error with the field it concerns (or "mapping" when the evaluation as a whole failed). */
function named(error: unknown, fields: readonly string[]): ExpressionError {
  const e = error instanceof ExpressionError ? error : new ExpressionError(String(error));
  const field = e.index === undefined ? undefined : fields[e.index];
  return new ExpressionError(`${field === undefined ? 'mapping' : `mapping for field "${field}"`}: ${e.message}`, e.code, e.position, e.index);
}
