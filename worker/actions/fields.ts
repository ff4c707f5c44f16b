// Typed target fields. Each action declares its fields; the mapped values are checked against
// them with zod before the action runs, and every message names the field, the expected type
// and the value received.
import { z } from 'zod';

export type FieldType = 'string' | 'int' | 'number' | 'boolean' | 'enum' | 'datetime' | 'ref' | 'list';

export interface TargetField {
  name: string;
  type: FieldType;
  required: boolean;
  description: string;
  /** for `enum` */
  enumValues?: readonly string[];
  /** for `ref`: the entity referenced (resolved by id, name or external id by the action) */
  refEntity?: string;
  /** for `string`: longest accepted value */
  maxLength?: number;
}

/** What the registry publishes about a field (no zod, no functions): safe to send to a UI. */
export interface TargetFieldInfo {
  name: string;
  type: FieldType;
  required: boolean;
  description: string;
  enumValues?: readonly string[];
  refEntity?: string;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array`;
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return `${text.length > 80 ? text.slice(0, 77) + '...' : text} (${typeof value})`;
}

function fail(ctx: z.RefinementCtx, field: TargetField, expected: string, value: unknown): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', path: [field.name], message: `field "${field.name}": expected ${expected}, got ${describe(value)}` });
  return z.NEVER;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Epoch seconds or milliseconds (by magnitude), or an ISO 8601 string, to a Date. */
export function parseDatetime(value: unknown): Date | null {
  if (typeof value === 'number' && Number.isFinite(value)) {
    return new Date(Math.abs(value) >= 1e11 ? value : value * 1000);
  }
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^-?\d+(\.\d+)?$/.test(text)) return parseDatetime(Number(text));
    if (ISO_DATE.test(text)) {
      const date = new Date(text);
      return Number.isNaN(date.getTime()) ? null : date;
    }
  }
  return null;
}

/** What a reference field accepts, in words: reference data by name, entities by external id. */
function refExpectation(entity: string | undefined): string {
  const label = (entity ?? 'entity').replaceAll('_', ' ');
  if (entity === 'user') return 'a user id or email (string)';
  if (entity === 'board' || entity === 'priority' || entity?.endsWith('status')) return `a ${label} id or name (string)`;
  return `a ${label} id or external id (string)`;
}

function coerce(field: TargetField, value: unknown, ctx: z.RefinementCtx): unknown {
  switch (field.type) {
    case 'string':
    case 'ref': {
      // Numbers are fine as text (ids are often numeric); objects are not.
      if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
      if (typeof value !== 'string') return fail(ctx, field, field.type === 'ref' ? refExpectation(field.refEntity) : 'string', value);
      const text = value.trim();
      if (text === '') return fail(ctx, field, 'a non-empty string', value);
      if (field.maxLength && text.length > field.maxLength) {
        return fail(ctx, field, `at most ${field.maxLength} characters`, `${text.length} characters`);
      }
      return text;
    }
    case 'int':
    case 'number': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) return fail(ctx, field, field.type, value);
      if (field.type === 'int' && !Number.isInteger(n)) return fail(ctx, field, 'int', value);
      return n;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 1 || value === '1') return true;
      if (value === 'false' || value === 0 || value === '0') return false;
      return fail(ctx, field, 'boolean', value);
    }
    case 'enum': {
      const values = field.enumValues ?? [];
      const wanted = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
      const match = wanted === undefined ? undefined : values.find((v) => v.toLowerCase() === wanted);
      if (match === undefined) return fail(ctx, field, `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, value);
      return match;
    }
    case 'datetime': {
      const date = parseDatetime(value);
      if (!date) return fail(ctx, field, 'an ISO 8601 datetime or epoch seconds/milliseconds', value);
      return date;
    }
    case 'list': {
      // An array of strings/numbers (nested arrays flattened, null items skipped) or one
      // comma-separated string; always a string[] (possibly empty).
      const expected = 'a list (an array of strings or numbers, or a comma-separated string)';
      const items = Array.isArray(value) ? value.flat(Infinity) : typeof value === 'string' ? value.split(',') : [value];
      const out: string[] = [];
      for (const [i, item] of items.entries()) {
        if (item === null || item === undefined) continue;
        if (typeof item === 'number' && Number.isFinite(item)) out.push(String(item));
        else if (typeof item === 'string') {
          if (item.trim() !== '') out.push(item.trim());
        } else return fail(ctx, field, Array.isArray(value) ? `${expected}; item ${i} is not a string or number` : expected, Array.isArray(value) ? item : value);
      }
      return out;
    }
  }
}

/**
 * A zod schema for an action's mapped values. Unknown names are refused (a mapping naming a
 * field the action does not have is a configuration mistake worth hearing about); null and
 * undefined count as absent.
 */
export function schemaFor(fields: readonly TargetField[]): z.ZodType<Record<string, unknown>> {
  const byName = new Map(fields.map((f) => [f.name, f]));
  return z.record(z.string(), z.unknown()).transform((input, ctx) => {
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(input)) {
      if (!byName.has(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: `field "${name}" is not a field of this action (fields: ${[...byName.keys()].join(', ')})` });
      }
    }
    for (const field of fields) {
      const value = input[field.name];
      if (value === undefined || value === null) {
        if (field.required) ctx.addIssue({ code: 'custom', path: [field.name], message: `field "${field.name}" is required (${field.type}) but the mapping produced no value` });
        continue;
      }
      const coerced = coerce(field, value, ctx);
      if (coerced !== z.NEVER) out[field.name] = coerced;
    }
    return out;
  });
}
