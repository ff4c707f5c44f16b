// Does a value fit an action's field? The same rules as worker/actions/fields.ts (the server has
// the last word at dispatch and in the dry run); here they give the preview its ✓/⚠ while typing.
import { exampleOf, valueType } from './values.ts';

export interface FieldInfo {
  name: string;
  type: string; // 'string' | 'int' | 'number' | 'boolean' | 'enum' | 'datetime' | 'ref' | 'list'
  required: boolean;
  enumValues?: readonly string[] | null;
}

/** A problem as an i18n key and its values (see editor.check.* in the locale catalog). */
export interface Problem {
  key: string;
  params: Record<string, string | number>;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

function isDatetime(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'string') return false;
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return true;
  return ISO_DATE.test(text) && !Number.isNaN(new Date(text).getTime());
}

/** The value for a message: its type and a short form (`string "abc"`, `array [3]`), as i18n params. */
export function described(value: unknown): Record<string, string | number> {
  // containers by their size, as the preview and the sample tree show them: {4} keys, [3] items
  return { got: valueType(value), value: exampleOf(value, 60) };
}

/**
 * null when the value fits the field; otherwise what is wrong. `undefined` and null are "no
 * value": a problem only for a required field (the server skips absent optional fields).
 */
export function checkValue(value: unknown, field: FieldInfo): Problem | null {
  const fail = (expected: string, extra: Record<string, string | number> = {}): Problem => ({ key: `editor.check.${expected}`, params: { ...described(value), ...extra } });
  if (value === undefined || value === null) return field.required ? { key: 'editor.check.noValue', params: {} } : null;
  switch (field.type) {
    case 'string':
    case 'ref':
      if (typeof value === 'number' && Number.isFinite(value)) return null;
      if (typeof value !== 'string') return fail(field.type === 'ref' ? 'ref' : 'string');
      return value.trim() === '' ? fail('nonEmpty') : null;
    case 'int':
    case 'number': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) return fail(field.type);
      return field.type === 'int' && !Number.isInteger(n) ? fail('int') : null;
    }
    case 'boolean':
      return typeof value === 'boolean' || ['true', 'false', '1', '0', 1, 0].includes(value as string) ? null : fail('boolean');
    case 'enum': {
      const values = field.enumValues ?? [];
      const ok = typeof value === 'string' && values.some((v) => v.toLowerCase() === value.trim().toLowerCase());
      return ok ? null : fail('enum', { values: values.join(', ') });
    }
    case 'datetime':
      return isDatetime(value) ? null : fail('datetime');
    case 'list': {
      const items = Array.isArray(value) ? value.flat(Infinity) : typeof value === 'string' ? [] : [value];
      const bad = items.find((i) => i !== null && i !== undefined && typeof i !== 'string' && !(typeof i === 'number' && Number.isFinite(i)));
      return bad === undefined ? null : fail('list');
    }
    default:
      return null;
  }
}
