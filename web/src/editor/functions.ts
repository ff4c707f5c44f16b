// JSONata's built-in functions, as completion snippets: the signature a user sees, and the
// template CodeMirror fills in (${name} marks a placeholder the Tab key moves through). What each
// does, in words, is in the locale catalog under editor.fn.<name>.
export interface FunctionInfo {
  name: string;
  /** e.g. "$substring(str, start, length?)" */
  signature: string;
  /** CodeMirror snippet syntax, e.g. "$substring(${str}, ${start})" */
  template: string;
}

const SIGNATURES = [
  'string(arg, prettify?)', 'length(str)', 'substring(str, start, length?)', 'substringBefore(str, chars)',
  'substringAfter(str, chars)', 'uppercase(str)', 'lowercase(str)', 'trim(str)', 'pad(str, width, char?)',
  'contains(str, pattern)', 'split(str, separator, limit?)', 'join(array, separator?)', 'match(str, pattern, limit?)',
  'replace(str, pattern, replacement, limit?)', 'base64encode(str)', 'base64decode(str)', 'encodeUrlComponent(str)',
  'decodeUrlComponent(str)', 'number(arg)', 'abs(number)', 'floor(number)', 'ceil(number)', 'round(number, precision?)',
  'power(base, exponent)', 'sqrt(number)', 'formatNumber(number, picture)', 'parseInteger(str, picture)', 'sum(array)',
  'max(array)', 'min(array)', 'average(array)', 'count(array)', 'append(array1, array2)', 'sort(array, function?)',
  'reverse(array)', 'distinct(array)', 'keys(object)', 'lookup(object, key)', 'merge(array)', 'type(value)',
  'boolean(arg)', 'not(arg)', 'exists(arg)', 'map(array, function)', 'filter(array, function)', 'single(array, function?)',
  'reduce(array, function, init?)', 'now()', 'millis()', 'fromMillis(number, picture?, timezone?)',
  'toMillis(timestamp, picture?)', 'eval(expr, context?)',
];

export const FUNCTIONS: FunctionInfo[] = SIGNATURES.map((sig) => {
  const name = sig.slice(0, sig.indexOf('('));
  const required = sig
    .slice(sig.indexOf('(') + 1, -1)
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p && !p.endsWith('?'));
  return { name, signature: `$${sig}`, template: `$${name}(${required.map((p) => `\${${p}}`).join(', ')})` };
});

export const FUNCTION_BY_NAME = new Map(FUNCTIONS.map((f) => [f.name, f]));
