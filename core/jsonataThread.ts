// One thread of core/jsonata.ts's pool: evaluates a task's expressions, one after another, and
// posts their results back as JSON text. The main thread stops (terminates) this thread when a
// task overruns its limit, so nothing here has to be interruptible; jsonata's own limits (time
// between steps, stack depth, sequence size) still end most runaway expressions early, without
// the cost of a new thread.
import { parentPort } from 'node:worker_threads';
import jsonata from 'jsonata';

export interface ThreadTask {
  id: number;
  sources: string[];
  input: unknown;
  timeoutMs: number;
  stack: number;
  sequence: number;
  /** the largest result (all of a task's results together), in characters of JSON */
  maxOutputChars: number;
}

export type ThreadResult =
  | { ok: true; json: string | undefined }
  | { ok: false; message: string; code?: string; position?: number };

export interface ThreadReply {
  id: number;
  results: ThreadResult[];
}

/** Sent as each expression of a task starts, so a task stopped at its limit names the one it was in. */
export interface ThreadProgress {
  id: number;
  at: number;
}

/** Compiled expressions by source: tenants' mappings repeat; the bound keeps memory flat. */
const compiled = new Map<string, jsonata.Expression>();
const MAX_COMPILED = 1000;

function compile(task: ThreadTask, source: string): jsonata.Expression {
  const key = `${task.timeoutMs}:${task.stack}:${task.sequence}:${source}`;
  let expression = compiled.get(key);
  if (!expression) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    expression = jsonata(source, { timeout: task.timeoutMs, stack: task.stack, sequence: task.sequence });
    bound(expression, task.maxOutputChars);
    compiled.set(key, expression);
  }
  return expression;
}

class OutputLimit extends Error {
  readonly code = 'OUTPUT_LIMIT';
}

interface Builtin<F> {
  implementation: F;
}
/** jsonata's own $string (how `&` turns its operands into text). */
const builtinString = (await jsonata('$string').evaluate({})) as Builtin<(value: unknown, prettify?: boolean) => string | undefined>;
/** jsonata's own $replace, which the bounded one below hands its work to. */
const builtinReplace = (await jsonata('$replace').evaluate({})) as Builtin<(this: unknown, ...args: unknown[]) => Promise<string | undefined>>;

/** What a regex (jsonata's matcher) gives $replace for each match. */
interface RegexMatch {
  match: string;
  start: number;
  groups: string[];
}

/**
 * The text a string replacement stands for at one match: `$0` the match, `$1`… its groups, `$$`
 * a dollar. jsonata's own rules (functions.js, replace), so the bounded $replace gives the very
 * same result.
 */
function substitute(replacement: string, m: RegexMatch): string {
  let out = '';
  let position = 0;
  let index = replacement.indexOf('$', position);
  while (index !== -1 && position < replacement.length) {
    out += replacement.substring(position, index);
    position = index + 1;
    const next = replacement.charAt(position);
    if (next === '$') {
      out += '$';
      position++;
    } else if (next === '0') {
      out += m.match;
      position++;
    } else {
      const maxDigits = m.groups.length === 0 ? 1 : Math.floor(Math.log(m.groups.length) * Math.LOG10E) + 1;
      let group = parseInt(replacement.substring(position, position + maxDigits), 10);
      if (maxDigits > 1 && group > m.groups.length) group = parseInt(replacement.substring(position, position + maxDigits - 1), 10);
      if (!isNaN(group)) {
        if (m.groups.length > 0 && m.groups[group - 1] !== undefined) out += m.groups[group - 1];
        position += group.toString().length;
      } else {
        out += '$';
      }
    }
    index = replacement.indexOf('$', position);
  }
  return out + replacement.substring(position);
}
const CONCAT = '__intake_concat';

interface AstNode {
  type?: string;
  value?: unknown;
  position?: number;
  [key: string]: unknown;
}

/**
 * Every `a & b` of the parsed expression becomes a call of a bounded concatenation (in place:
 * jsonata evaluates the very tree ast() returns). Strings doubled by `&` cost nothing while they
 * are ropes, but the first built-in that reads one ($length, a regex) flattens it in one
 * allocation, and one far over the heap limit aborts the whole process, not only this thread.
 */
function boundConcatenation(node: unknown, seen = new Set<unknown>()): void {
  if (node === null || typeof node !== 'object' || seen.has(node)) return;
  seen.add(node);
  for (const child of Object.values(node)) boundConcatenation(child, seen);
  const n = node as AstNode;
  if (n.type === 'binary' && n.value === '&') {
    const { lhs, rhs, position } = n;
    for (const key of Object.keys(n)) delete n[key];
    Object.assign(n, {
      type: 'function', value: '(', position,
      procedure: { type: 'variable', value: CONCAT, position },
      arguments: [lhs, rhs],
    });
  }
}

/**
 * What could build one big string is bounded: `&` (above), and the built-ins that do it in a
 * single call ($pad to a width, $join of a sequence, $replace of many matches with a long
 * replacement, $string of a structure that repeats a long string), replaced by bounded ones.
 * A bounded one fails as soon as its result is known to be too long, before building it.
 */
function bound(expression: jsonata.Expression, maxChars: number): void {
  const tooLong = (what: string) => new OutputLimit(`${what} would be longer than ${maxChars} characters`);
  boundConcatenation(expression.ast());
  expression.registerFunction(CONCAT, (lhs: unknown, rhs: unknown) => {
    const l = lhs === undefined ? '' : (builtinString.implementation(lhs) ?? '');
    const r = rhs === undefined ? '' : (builtinString.implementation(rhs) ?? '');
    if (l.length + r.length > maxChars) throw tooLong('a string joined with &');
    return l.concat(r);
  });
  expression.registerFunction('pad', (str: string | undefined, width: number, char?: string) => {
    if (str === undefined) return undefined;
    const fill = char === undefined || char.length === 0 ? ' ' : char;
    const target = Math.abs(Math.trunc(width));
    if (target > maxChars) throw tooLong('$pad');
    const padLength = target - Array.from(str).length;
    if (padLength <= 0) return str;
    const padding = Array.from(fill.repeat(Math.ceil(padLength / fill.length))).slice(0, padLength).join('');
    return width > 0 ? str + padding : padding + str;
  }, '<s-ns?:s>');
  expression.registerFunction('replace', async function (this: unknown, str: string | undefined, pattern: unknown, replacement: unknown, limit?: number) {
    if (str === undefined) return undefined;
    if (typeof pattern === 'string') {
      // jsonata inserts the replacement as it is at each occurrence: counted up front
      if (pattern !== '' && !(typeof limit === 'number' && limit < 0)) {
        const inserted = String(replacement).length;
        let count = 0;
        for (let at = str.indexOf(pattern); at !== -1 && (limit === undefined || count < limit); at = str.indexOf(pattern, at + pattern.length)) {
          count++;
          if (str.length + count * (inserted - pattern.length) > maxChars) throw tooLong('$replace');
        }
      }
      return builtinReplace.implementation.call(this, str, pattern, replacement, limit);
    }
    // A regex: the result so far is counted as the matches come, each replaced by its substitute.
    let length = 0;
    let end = 0;
    const counted = (m: RegexMatch, text: unknown) => {
      if (typeof text === 'string') {
        length += m.start - end + text.length;
        end = m.start + m.match.length;
        if (length > maxChars) throw tooLong('$replace');
      }
      return text;
    };
    const fn = replacement as { apply?: (self: unknown, args: unknown[]) => unknown };
    const replacer = typeof replacement === 'string'
      ? (m: RegexMatch) => counted(m, substitute(replacement, m))
      : typeof fn?.apply === 'function'
        ? async function (this: unknown, m: RegexMatch) { return counted(m, await fn.apply!(this, [m])); }
        : replacement; // not a function jsonata can call: its own error
    const result = await builtinReplace.implementation.call(this, str, pattern, replacer, limit);
    if (result !== undefined && result.length > maxChars) throw tooLong('$replace');
    return result;
  }, '<s-(sf)(sf)n?:s>');
  expression.registerFunction('string', (value: unknown, prettify?: boolean) => {
    // A string is returned as it is; anything else becomes JSON, measured before it is built
    // (compact: the indented text is then longer by the indentation, and measured once built).
    if (value !== undefined && typeof value !== 'string' && jsonSize(value, maxChars) > maxChars) throw tooLong('$string');
    const text = builtinString.implementation(value, prettify);
    if (text !== undefined && text.length > maxChars) throw tooLong('$string');
    return text;
  }, '<x-b?:s>');
  expression.registerFunction('join', (strs: string[] | undefined, separator?: string) => {
    if (strs === undefined) return undefined;
    const sep = separator ?? '';
    let total = 0;
    for (const s of strs) {
      total += s.length + sep.length;
      if (total > maxChars + sep.length) throw tooLong('$join');
    }
    return strs.join(sep);
  }, '<a<s>s?:s>');
}

/** Characters of JSON the value would take, counted without building it; stops past `limit`. */
function jsonSize(value: unknown, limit: number): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && size <= limit) {
    const v = stack.pop();
    if (typeof v === 'string') size += v.length + 2; // a rope's length, without flattening it
    else if (Array.isArray(v)) {
      size += 2 + v.length;
      for (const item of v) stack.push(item);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        size += k.length + 4;
        stack.push(item);
      }
      size += 2;
    } else if (typeof v === 'number') size += String(v).length;
    else size += 5; // true, false, null (undefined in an array is null)
  }
  return size;
}

async function run(task: ThreadTask): Promise<ThreadResult[]> {
  const results: ThreadResult[] = [];
  let budget = task.maxOutputChars;
  for (const [at, source] of task.sources.entries()) {
    if (task.sources.length > 1) parentPort!.postMessage({ id: task.id, at } satisfies ThreadProgress);
    try {
      const value = await compile(task, source).evaluate(task.input);
      // Measured before JSON.stringify, which would flatten (allocate) whatever was built.
      const tooBig = value !== undefined && jsonSize(value, budget) > budget;
      const json = tooBig || value === undefined ? undefined : JSON.stringify(value);
      budget -= tooBig ? Infinity : (json?.length ?? 0);
      if (budget < 0) {
        results.push({ ok: false, code: 'OUTPUT_LIMIT', message: `the result is larger than ${task.maxOutputChars} characters of JSON` });
        // the rest would only be thrown away
        return results;
      }
      results.push({ ok: true, json });
    } catch (error) {
      const e = (error ?? {}) as { message?: string; code?: string; position?: number };
      results.push({
        ok: false,
        message: e.message ?? String(error),
        ...(typeof e.code === 'string' ? { code: e.code } : {}),
        ...(typeof e.position === 'number' ? { position: e.position } : {}),
      });
    }
  }
  return results;
}

parentPort!.on('message', (task: ThreadTask) => {
  void run(task).then((results) => parentPort!.postMessage({ id: task.id, results } satisfies ThreadReply));
});
parentPort!.postMessage('ready');
