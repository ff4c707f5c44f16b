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

/** jsonata's own $string (how `&` turns its operands into text). */
const builtinString = (await jsonata('$string').evaluate({})) as { implementation: (value: unknown) => string | undefined };
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
 * single native call ($pad to a width, $join of a sequence), replaced by bounded ones.
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
    } else size += 24;
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
