// What a JSON value is, in the words the editor shows: its type chip and a short example.
export type ValueType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object' | 'null' | 'missing';

export function valueType(value: unknown): ValueType {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'string' || typeof value === 'boolean') return typeof value as ValueType;
  if (typeof value === 'object') return 'object';
  return 'missing'; // a function (a jsonata lambda) has no JSON form
}

/** One line, at most `max` characters: strings and numbers as JSON, containers by their size. */
export function exampleOf(value: unknown, max = 48): string {
  if (Array.isArray(value)) return `[${value.length}]`;
  if (value !== null && typeof value === 'object') return `{${Object.keys(value).length}}`;
  if (value === undefined) return '';
  const text = JSON.stringify(value) ?? '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** JSONata's results are sequences; this turns them back into plain JSON for display and checks. */
export function plain(value: unknown): unknown {
  if (value === undefined || value === null || typeof value !== 'object') return value;
  if (typeof (value as { _jsonata_lambda?: unknown })._jsonata_lambda !== 'undefined') return undefined;
  return JSON.parse(JSON.stringify(value));
}

/** The values a path step sees: arrays looked into (nested ones too), missing values dropped, as JSONata does. */
export function flatten(values: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of values) {
    if (Array.isArray(v)) out.push(...flatten(v));
    else if (v !== undefined) out.push(v);
  }
  return out;
}
