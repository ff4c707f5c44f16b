// Completion and hover from the sample (n8n's approach): the path before the cursor is evaluated
// against the sample, and what it gives is what can come next. Inside a predicate `a[...]` the
// context is each item of `a`; inside function arguments and blocks it is the context outside.
// No DOM here: the editor adapts these results to CodeMirror, the unit tests call them directly.
import { FUNCTIONS, FUNCTION_BY_NAME } from './functions.ts';
import { nameOf, quoteName, tokenize, type Token } from './tokens.ts';
import { exampleOf, flatten, plain, valueType, type ValueType } from './values.ts';

/** Evaluates a JSONata expression on an input; in the browser it runs in a Web Worker. */
export type Evaluate = (expression: string, input: unknown) => Promise<unknown>;

export interface CursorContext {
  /** where the text being completed starts (the partial name, or the cursor) */
  from: number;
  /** what is already typed of the name or variable */
  partial: string;
  kind: 'step' | 'after-dot' | 'variable' | 'none';
  /** the path whose keys complete the step, e.g. "alerts[0].labels" for `alerts[0].labels.` */
  parent: string | null;
  /** where the `.` before the partial is (array options replace it) */
  dot: number | null;
  /** the paths of the enclosing predicates, outermost first: each is evaluated on the previous one's items */
  predicates: string[];
}

export interface CompletionItem {
  label: string;
  kind: 'property' | 'index' | 'predicate' | 'function' | 'variable';
  /** the text replacing [from, cursor); for functions, a CodeMirror snippet template */
  insert: string;
  from: number;
  /** the value's type in the sample, or a function's signature */
  detail: string;
  /** an example value from the sample */
  example?: string;
  snippet?: boolean;
}

const VALUE_END = (t: Token | undefined) =>
  !!t && (['name', 'quoted', 'variable', 'string', 'number'].includes(t.type) || t.text === ')' || t.text === ']' || t.text === '}');

/** The index of the first token of the path expression that ends with tokens[end] (inclusive). */
function pathStart(tokens: Token[], end: number): number {
  let i = end;
  for (;;) {
    const t = tokens[i];
    if (!t) return i + 1;
    if (t.type === 'close') {
      // skip back over the balanced group
      let depth = 0;
      let j = i;
      for (; j >= 0; j--) {
        const u = tokens[j]!;
        if (u.type === 'close') depth++;
        else if (u.type === 'open' && --depth === 0) break;
      }
      if (j < 0) return i + 1;
      if (tokens[j]!.text === '(' && tokens[j - 1]?.type === 'variable') {
        i = j - 1; // a function call: $f(...)
        continue;
      }
      if (tokens[j]!.text === '[' && VALUE_END(tokens[j - 1])) {
        i = j - 1; // a predicate or index on the step before
        continue;
      }
      i = j; // a parenthesised step
    } else if (!['name', 'quoted', 'variable'].includes(t.type) && !(t.type === 'operator' && t.text === '*')) {
      return i + 1;
    }
    const before = tokens[i - 1];
    if (before?.type === 'operator' && before.text === '.') {
      i -= 2;
      continue;
    }
    return i;
  }
}

export function cursorContext(src: string, pos: number): CursorContext {
  const tokens = tokenize(src.slice(0, pos));
  const none = (): CursorContext => ({ from: pos, partial: '', kind: 'none', parent: null, dot: null, predicates: [] });
  let last = tokens.at(-1);
  let partialToken: Token | undefined;
  if (last && last.to === pos && (last.type === 'name' || last.type === 'quoted' || last.type === 'keyword' || last.type === 'variable')) {
    partialToken = last;
  } else if (last && last.to === pos && (last.type === 'string' || last.type === 'number' || last.type === 'comment' || last.type === 'regex')) {
    return none();
  } else if (last && (last.unterminated && last.type !== 'quoted')) {
    return none();
  }
  const partialIndex = partialToken ? tokens.length - 1 : tokens.length;
  const from = partialToken?.from ?? pos;

  // the enclosing brackets: a `[` right after a value opens a predicate over that value's items
  const predicates: string[] = [];
  const stack: { open: string; path: string | null }[] = [];
  for (let i = 0; i < partialIndex; i++) {
    const t = tokens[i]!;
    if (t.type === 'open') {
      let path: string | null = null;
      if (t.text === '[' && VALUE_END(tokens[i - 1])) {
        const start = pathStart(tokens, i - 1);
        // the path before this `[` is relative to the enclosing predicate's items
        path = src.slice(tokens[start]!.from, tokens[i - 1]!.to);
      }
      stack.push({ open: t.text, path });
    } else if (t.type === 'close') {
      stack.pop();
    }
  }
  for (const frame of stack) if (frame.path !== null) predicates.push(frame.path);
  // inside a plain array constructor or a group of an enclosing predicate, keep that predicate's context

  if (partialToken?.type === 'variable') {
    return { from, partial: partialToken.text, kind: 'variable', parent: null, dot: null, predicates };
  }
  const partial = partialToken ? nameOf(partialToken) : '';
  const before = tokens[partialIndex - 1];
  if (before?.type === 'operator' && before.text === '.') {
    const parentEnd = partialIndex - 2;
    if (!VALUE_END(tokens[parentEnd])) return none();
    const start = pathStart(tokens, parentEnd);
    if (start > parentEnd) return none();
    const parent = src.slice(tokens[start]!.from, tokens[parentEnd]!.to);
    return { from, partial, kind: 'after-dot', parent, dot: before.from, predicates };
  }
  if (before && VALUE_END(before) && !partialToken) return none(); // `a |`: an operator comes next, not a step
  return { from, partial, kind: 'step', parent: null, dot: null, predicates };
}

/** The items a predicate chain gives: each predicate's path evaluated on the previous items. */
async function contextItems(ctx: CursorContext, sample: unknown, evaluate: Evaluate): Promise<unknown[]> {
  let items: unknown[] = [sample];
  for (const path of ctx.predicates) {
    const next: unknown[] = [];
    for (const item of items.slice(0, 20)) next.push(await evaluateQuietly(evaluate, path, item));
    items = flatten(next);
  }
  return items;
}

async function evaluateQuietly(evaluate: Evaluate, expression: string, input: unknown): Promise<unknown> {
  try {
    return plain(await evaluate(expression, input));
  } catch {
    return undefined;
  }
}

function matches(label: string, partial: string): boolean {
  return partial === '' || label.toLowerCase().startsWith(partial.toLowerCase()) || label.toLowerCase().includes(partial.toLowerCase());
}

/** The keys of the objects among `values` (arrays looked into, as JSONata's path steps do). */
export function keysOf(values: unknown[]): { key: string; type: ValueType; example: string }[] {
  const seen = new Map<string, { key: string; type: ValueType; example: string }>();
  for (const v of flatten(values).slice(0, 50)) {
    if (v === null || typeof v !== 'object') continue;
    for (const [key, value] of Object.entries(v)) {
      if (!seen.has(key)) seen.set(key, { key, type: valueType(value), example: exampleOf(value) });
    }
  }
  return [...seen.values()];
}

/** Predicates a user might want on an array of objects: its first few scalar fields, with the sample's values. */
function predicateItems(items: unknown[], from: number): CompletionItem[] {
  const first = items.find((v) => v !== null && typeof v === 'object' && !Array.isArray(v)) as Record<string, unknown> | undefined;
  if (!first) return [];
  const out: CompletionItem[] = [];
  for (const [key, value] of Object.entries(first)) {
    if (out.length >= 3) break;
    const name = quoteName(key);
    if (!name || (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')) continue;
    const text = `[${name} = ${JSON.stringify(value)}]`;
    out.push({ label: text, kind: 'predicate', insert: `${text}.`, from, detail: 'predicate' });
  }
  return out;
}

/** Variables bound in the expression itself ($x := …), beside the built-in functions. */
function boundVariables(src: string): string[] {
  const tokens = tokenize(src);
  const names = new Set<string>();
  for (const [i, t] of tokens.entries()) if (t.type === 'variable' && tokens[i + 1]?.text === ':=' && t.text.length > 1) names.add(t.text);
  return [...names];
}

function functionItems(src: string, partial: string, from: number): CompletionItem[] {
  const typed = partial.replace(/^\$/, '');
  const vars = boundVariables(src)
    .filter((v) => v !== partial && matches(v.slice(1), typed))
    .map((v): CompletionItem => ({ label: v, kind: 'variable', insert: v, from, detail: 'variable' }));
  const fns = FUNCTIONS.filter((f) => f.name.toLowerCase().startsWith(typed.toLowerCase())).map(
    (f): CompletionItem => ({ label: `$${f.name}`, kind: 'function', insert: f.template, from, detail: f.signature, snippet: true }),
  );
  const prefixFirst = (a: CompletionItem, b: CompletionItem) => Number(!a.label.slice(1).startsWith(typed)) - Number(!b.label.slice(1).startsWith(typed));
  return [...vars, ...fns.sort(prefixFirst)];
}

/** What can be typed at `pos` in `src`, given the sample. */
export async function completionsAt(src: string, pos: number, sample: unknown, evaluate: Evaluate): Promise<{ from: number; items: CompletionItem[] } | null> {
  const ctx = cursorContext(src, pos);
  if (ctx.kind === 'none') return null;
  if (ctx.kind === 'variable') return { from: ctx.from, items: functionItems(src, ctx.partial, ctx.from) };
  const items = await contextItems(ctx, sample, evaluate);
  const out: CompletionItem[] = [];
  let parentValues = items;
  if (ctx.parent !== null) {
    parentValues = [];
    for (const item of items.slice(0, 20)) parentValues.push(await evaluateQuietly(evaluate, ctx.parent, item));
  }
  for (const { key, type, example } of keysOf(parentValues)) {
    const insert = quoteName(key);
    if (insert === null || !matches(key, ctx.partial)) continue;
    out.push({ label: key, kind: 'property', insert, from: ctx.from, detail: type, example });
  }
  const startsWith = (a: CompletionItem) => Number(!a.label.toLowerCase().startsWith(ctx.partial.toLowerCase()));
  out.sort((a, b) => startsWith(a) - startsWith(b));
  // after `list.`, an array offers an index or a predicate in place of the dot
  const arrays = parentValues.filter(Array.isArray) as unknown[][];
  if (ctx.kind === 'after-dot' && ctx.dot !== null && arrays.length > 0 && ctx.partial === '') {
    const elements = arrays.flat();
    out.push({ label: '[0]', kind: 'index', insert: '[0].', from: ctx.dot, detail: valueType(elements[0]), example: exampleOf(elements[0]) });
    out.push({ label: '[-1]', kind: 'index', insert: '[-1].', from: ctx.dot, detail: valueType(elements.at(-1)), example: exampleOf(elements.at(-1)) });
    out.push(...predicateItems(elements, ctx.dot));
  }
  if (ctx.kind === 'step') out.push(...functionItems(src, ctx.partial, ctx.from).filter((i) => ctx.partial !== '' || i.kind === 'function').slice(0, ctx.partial ? 50 : 0));
  return { from: ctx.from, items: out };
}

export interface HoverInfo {
  from: number;
  to: number;
  /** for a path: the value's type in the sample and an example; for a function: its signature */
  title: string;
  detail: string;
  missing?: boolean;
}

/** What the token under `pos` is: a path's value in the sample, or a function's signature. */
export async function hoverAt(src: string, pos: number, sample: unknown, evaluate: Evaluate): Promise<HoverInfo | null> {
  const token = tokenize(src).find((t) => t.from <= pos && pos <= t.to && t.type !== 'operator');
  if (!token) return null;
  if (token.type === 'variable') {
    const fn = FUNCTION_BY_NAME.get(token.text.slice(1));
    return fn ? { from: token.from, to: token.to, title: fn.signature, detail: fn.name } : null;
  }
  if (token.type !== 'name' && token.type !== 'quoted') return null;
  const ctx = cursorContext(src, token.to);
  if (ctx.kind !== 'step' && ctx.kind !== 'after-dot') return null;
  const items = await contextItems(ctx, sample, evaluate);
  const path = ctx.parent === null ? src.slice(token.from, token.to) : `${ctx.parent}.${src.slice(token.from, token.to)}`;
  const values = flatten(await Promise.all(items.slice(0, 20).map((item) => evaluateQuietly(evaluate, path, item))));
  const value = values.length > 1 ? values : values[0];
  return { from: token.from, to: token.to, title: path, detail: value === undefined ? '' : `${valueType(value)} · ${exampleOf(value, 80)}`, missing: value === undefined };
}
