// A forgiving JSONata tokenizer for the editor: it never throws, so half-typed text still gets
// highlighting and a cursor context. jsonata's own tokenizer (inside its parser) stays the judge
// of what is valid; this one only has to agree with it on where tokens start and end.
export type TokenType =
  | 'name' // a field name: foo
  | 'quoted' // a back-tick quoted name: `foo bar`
  | 'variable' // $x, $, $$, $uppercase
  | 'string'
  | 'number'
  | 'keyword' // and or in true false null function
  | 'operator'
  | 'open' // ( [ {
  | 'close' // ) ] }
  | 'regex'
  | 'comment';

export interface Token {
  type: TokenType;
  from: number;
  to: number;
  text: string;
  /** a string, quoted name, comment or regex that runs to the end of the text */
  unterminated?: boolean;
}

export const KEYWORDS = new Set(['and', 'or', 'in', 'true', 'false', 'null', 'function']);
const OPERATORS = ['..', ':=', '!=', '>=', '<=', '**', '~>', '?:', '??', '.', '[', ']', '{', '}', '(', ')', ',', '@', '#', ';', ':', '?', '+', '-', '*', '/', '%', '|', '=', '<', '>', '^', '&', '!', '~'];
/** what a name may not contain: jsonata ends a name at whitespace or any operator character */
const NAME_END = /[\s.[\]{}(),@#;:?+\-*/%|=<>^&!~"'`$]/;

/** Tokens whose end is a value, after which `/` divides rather than starting a regex. */
function endsValue(token: Token | undefined): boolean {
  if (!token) return false;
  return ['name', 'quoted', 'variable', 'string', 'number', 'regex'].includes(token.type) || (token.type === 'keyword' && ['true', 'false', 'null'].includes(token.text)) || token.text === ')' || token.text === ']' || token.text === '}';
}

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (type: TokenType, from: number, to: number, unterminated = false) => {
    const token: Token = { type, from, to, text: src.slice(from, to) };
    if (unterminated) token.unterminated = true;
    tokens.push(token);
    i = to;
  };
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      push('comment', i, end < 0 ? src.length : end + 2, end < 0);
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      push('string', i, Math.min(j + 1, src.length), j >= src.length);
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      push('quoted', i, end < 0 ? src.length : end + 1, end < 0);
      continue;
    }
    if (c === '/' && !endsValue(tokens.at(-1))) {
      let j = i + 1;
      while (j < src.length && src[j] !== '/') j += src[j] === '\\' ? 2 : 1;
      let end = Math.min(j + 1, src.length);
      while (end < src.length && /[im]/.test(src[end]!)) end++;
      push('regex', i, end, j >= src.length);
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/.exec(src.slice(i));
      push('number', i, i + (m?.[0].length || 1));
      continue;
    }
    if (c === '$') {
      let j = i + 1;
      if (src[j] === '$') j++;
      else while (j < src.length && !NAME_END.test(src[j]!)) j++;
      push('variable', i, j);
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op) {
      push(op.length === 1 && '([{'.includes(op) ? 'open' : op.length === 1 && ')]}'.includes(op) ? 'close' : 'operator', i, i + op.length);
      continue;
    }
    let j = i;
    while (j < src.length && !NAME_END.test(src[j]!)) j++;
    if (j === i) j = i + 1; // a character jsonata would refuse: one token, so scanning moves on
    push(KEYWORDS.has(src.slice(i, j)) ? 'keyword' : 'name', i, j);
  }
  return tokens;
}

/** The field name a name or quoted-name token stands for. */
export function nameOf(token: Token): string {
  return token.type === 'quoted' ? token.text.slice(1, token.unterminated ? undefined : -1) : token.text;
}

/** A field name as JSONata source: back-tick quoted unless it is a plain identifier. */
export function quoteName(name: string): string | null {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.has(name)) return name;
  if (name.includes('`')) return null; // JSONata has no escape for a back-tick inside one
  return `\`${name}\``;
}

/** The JSONata path of a child: `a.b`, `` a.`x-y` ``, `a[0]`; null when a key cannot be written (it holds a back-tick). */
export function childPath(parent: string, key: string | number): string | null {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const name = quoteName(key);
  if (name === null) return null;
  return parent ? `${parent}.${name}` : name;
}
