// Diagnostics while typing, with the character range each one covers: syntax errors from
// jsonata's own parser (recover mode lists several; its tokenizer still throws the first), paths
// the sample does not have (warnings: a sample is one request, later ones may carry more), and
// the field checks (fieldCheck.ts) once the expression has a value.
import jsonata from 'jsonata';
import { tokenize, type Token } from './tokens.ts';
import { flatten } from './values.ts';

export interface Diagnostic {
  from: number;
  to: number;
  severity: 'error' | 'warning';
  /** an i18n key under editor.diag.* and its values */
  key: string;
  params: Record<string, string | number>;
}

interface JsonataError {
  code?: string;
  position?: number;
  token?: string;
  value?: unknown;
}

const SYNTAX_CODES = new Set(['S0101', 'S0102', 'S0103', 'S0104', 'S0105', 'S0106', 'S0201', 'S0202', 'S0203', 'S0204', 'S0207', 'S0211', 'S0212', 'S0301', 'S0302']);

/** The range of a parser error: jsonata's `position` is where the bad token ends. */
function errorRange(src: string, tokens: Token[], error: JsonataError): { from: number; to: number } {
  const end = Math.min(error.position ?? src.length, src.length);
  if (error.token === '(end)' || end >= src.length && !error.token) {
    // the expression stops too early: mark its last token, so the squiggle is visible
    const last = tokens.at(-1);
    return last ? { from: last.from, to: last.to } : { from: 0, to: src.length };
  }
  const token = tokens.find((t) => t.to === end) ?? tokens.find((t) => t.from < end && end <= t.to);
  if (token) return { from: token.from, to: token.to };
  return { from: Math.max(0, end - (error.token?.length ?? 1)), to: end };
}

/** For a thrown tokenizer error: the unterminated token, from its start to the end of the text. */
function thrownRange(src: string, tokens: Token[], error: JsonataError): { from: number; to: number } {
  const open = tokens.find((t) => t.unterminated);
  if (open && ['S0101', 'S0105', 'S0106', 'S0302'].includes(error.code ?? '')) return { from: open.from, to: src.length };
  return errorRange(src, tokens, error);
}

function toDiagnostic(src: string, tokens: Token[], error: JsonataError, thrown: boolean): Diagnostic {
  const range = thrown ? thrownRange(src, tokens, error) : errorRange(src, tokens, error);
  const code = error.code ?? '';
  const token = error.token === '(end)' ? '' : String(error.token ?? src.slice(range.from, range.to));
  return {
    ...range,
    severity: 'error',
    key: SYNTAX_CODES.has(code) ? `editor.diag.${code}` : 'editor.diag.syntax',
    params: { code, token, expected: error.value === undefined ? '' : String(error.value) },
  };
}

export interface Parsed {
  ast: unknown;
  diagnostics: Diagnostic[];
}

/** Parses with jsonata's parser; every error it reports, each once per position. */
export function parse(src: string): Parsed {
  const tokens = tokenize(src);
  if (src.trim() === '') return { ast: null, diagnostics: [] };
  try {
    const expression = jsonata(src, { recover: true });
    const errors = (((expression as unknown as { errors(): JsonataError[] | undefined }).errors()) ?? []).filter((e, i, all) => all.findIndex((x) => x.position === e.position) === i);
    return { ast: errors.length ? null : expression.ast(), diagnostics: errors.map((e) => toDiagnostic(src, tokens, e, false)) };
  } catch (error) {
    return { ast: null, diagnostics: [toDiagnostic(src, tokens, error as JsonataError, true)] };
  }
}

interface Node {
  type?: string;
  value?: unknown;
  position?: number;
  steps?: Node[];
  stages?: Node[];
  predicate?: Node[];
  expr?: Node;
  [key: string]: unknown;
}

function step(values: unknown[], key: string): unknown[] {
  const out: unknown[] = [];
  for (const v of flatten(values)) {
    if (v !== null && typeof v === 'object' && Object.hasOwn(v, key)) out.push((v as Record<string, unknown>)[key]);
  }
  return out;
}

/** Edit distance, to suggest the key a typo meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = here;
    }
  }
  return row[b.length]!;
}

function keys(values: unknown[]): string[] {
  const out = new Set<string>();
  for (const v of flatten(values)) if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) out.add(k);
  return [...out];
}

/** The range of a name step in the source: its position is the end of the name (or of its closing back-tick). */
function nameRange(src: string, node: Node): { from: number; to: number } {
  const to = node.position ?? 0;
  const name = String(node.value);
  const quoted = src[to - 1] === '`';
  return { from: Math.max(0, to - name.length - (quoted ? 2 : 0)), to };
}

/**
 * Warnings for name steps the sample does not have: the first missing step of each path (the
 * rest of that path is unknown then), with the closest key as a suggestion.
 */
export function missingPaths(src: string, ast: unknown, sample: unknown): Diagnostic[] {
  if (sample === null || typeof sample !== 'object' || !ast) return [];
  const out: Diagnostic[] = [];
  const visit = (node: unknown, context: unknown[] | null): void => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child, context);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const n = node as Node;
    if (n.type === 'path' && Array.isArray(n.steps)) {
      let current = context;
      let text = '';
      for (const s of n.steps) {
        if (s.type === 'name' && current !== null) {
          const next = step(current, String(s.value));
          if (next.length === 0 && flatten(current).some((v) => v !== null && typeof v === 'object')) {
            const available = keys(current);
            const closest = available.map((k) => [k, distance(k.toLowerCase(), String(s.value).toLowerCase())] as const).sort((a, b) => a[1] - b[1])[0];
            out.push({
              ...nameRange(src, s),
              severity: 'warning',
              key: closest && closest[1] <= Math.max(2, String(s.value).length / 3) ? 'editor.diag.missingPathSuggest' : 'editor.diag.missingPath',
              params: { name: String(s.value), parent: text || '$', suggestion: closest?.[0] ?? '', available: available.slice(0, 6).join(', ') },
            });
            current = null;
          } else {
            current = next;
          }
          text = text ? `${text}.${s.value}` : String(s.value);
          for (const stage of s.stages ?? []) visit(stage.expr, current === null ? null : flatten(current));
        } else if (s.type === 'variable' && s.value === '' && current !== null) {
          // `$`: the context itself
        } else if (s.type === 'variable' && s.value === '$') {
          current = [sample];
        } else {
          visit(s, current);
          current = null;
        }
      }
      return;
    }
    if (n.type === 'lambda') return visit(n.body, null);
    if (n.type === 'variable') return visit(n.predicate, null); // $x[…]: the items of a variable the sample cannot tell
    for (const [key, child] of Object.entries(n)) if (key !== 'position' && key !== 'value' && child && typeof child === 'object') visit(child, context);
  };
  visit(ast, [sample]);
  return out;
}

/** Syntax errors, then (when it parses) the paths missing from the sample. */
export function diagnose(src: string, sample: unknown): Diagnostic[] {
  const { ast, diagnostics } = parse(src);
  if (diagnostics.length) return diagnostics;
  return missingPaths(src, ast, sample);
}
