// JSON text as the receiver and the worker read it: JSON.parse, except that an integer too large
// for a JavaScript number to hold exactly (beyond ±2^53, e.g. 64-bit alert ids) becomes the
// string of its digits instead of being rounded to a neighbour. Two ids that differ in their
// last digit stay two ids, as idempotency keys and as mapped values; a mapping that wants text
// ($string(id), an external id) gets the same digits either way.
//
// Why no library: Node 22's JSON.parse hands a reviver each number's source text (the TC39
// "JSON.parse source text access" feature), which is all that is needed, and the reviver runs
// only for texts that contain a run of 16 digits, so ordinary bodies parse at JSON.parse speed.

const LONG_DIGITS = /\d{16}/;
const INTEGER = /^-?\d+$/;

type SourceContext = { source?: string } | undefined;

function keepLongIntegers(this: unknown, _key: string, value: unknown, context?: SourceContext): unknown {
  if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source !== undefined && INTEGER.test(context.source)) {
    return context.source;
  }
  return value;
}

/** JSON.parse, but integers past 2^53 are kept digit for digit as strings. Throws SyntaxError. */
export function parseJson(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  return JSON.parse(text, keepLongIntegers as (this: unknown, key: string, value: unknown) => unknown);
}
