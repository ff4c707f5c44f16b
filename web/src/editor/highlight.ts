// Highlighting as a CodeMirror stream language: line by line, with a string or comment that runs
// on carried to the next line. It agrees with tokens.ts on where tokens start and end (the
// cursor analysis uses that one); CodeMirror's own stream machinery keeps the marks in step with
// typing, which marks rebuilt from a whole-document tokenizer did not (the caret jumped).
import { HighlightStyle, StreamLanguage, syntaxHighlighting } from '@codemirror/language';
import { tags } from '@lezer/highlight';
import { KEYWORDS } from './tokens.ts';

interface State {
  /** inside a comment, or the quote of a string, that continues from the previous line */
  open: '*/' | '"' | "'" | null;
  /** the last token ended a value: a `/` now divides instead of starting a regex */
  afterValue: boolean;
}

const NAME = /^[^\s.[\]{}(),@#;:?+\-*/%|=<>^&!~"'`$]+/;

function closeString(stream: { next(): string | void; eol(): boolean }, quote: string): boolean {
  while (!stream.eol()) {
    const ch = stream.next();
    if (ch === '\\') stream.next();
    else if (ch === quote) return true;
  }
  return false;
}

const jsonataStream = StreamLanguage.define<State>({
  name: 'jsonata',
  startState: () => ({ open: null, afterValue: false }),
  copyState: (s) => ({ ...s }),
  token(stream, state) {
    if (state.open === '*/') {
      if (stream.skipTo('*/')) {
        stream.pos += 2;
        state.open = null;
      } else stream.skipToEnd();
      return 'comment';
    }
    if (state.open) {
      if (closeString(stream, state.open)) state.open = null;
      state.afterValue = true;
      return 'string';
    }
    if (stream.eatSpace()) return null;
    if (stream.match('/*')) {
      state.open = '*/';
      if (stream.skipTo('*/')) {
        stream.pos += 2;
        state.open = null;
      } else stream.skipToEnd();
      return 'comment';
    }
    const ch = stream.peek()!;
    if (ch === '"' || ch === "'") {
      stream.next();
      if (!closeString(stream, ch)) state.open = ch;
      state.afterValue = true;
      return 'string';
    }
    if (ch === '`') {
      stream.next();
      if (stream.skipTo('`')) stream.next();
      else stream.skipToEnd();
      state.afterValue = true;
      return 'propertyName';
    }
    if (ch === '$') {
      stream.next();
      if (!stream.eat('$')) stream.match(NAME);
      state.afterValue = true;
      return 'variableName';
    }
    if (stream.match(/^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/)) {
      state.afterValue = true;
      return 'number';
    }
    if (ch === '/' && !state.afterValue) {
      stream.next();
      while (!stream.eol()) {
        const c = stream.next();
        if (c === '\\') stream.next();
        else if (c === '/') break;
      }
      stream.match(/^[im]*/);
      state.afterValue = true;
      return 'regexp';
    }
    const name = stream.match(NAME) as RegExpMatchArray | null;
    if (name) {
      const word = name[0];
      state.afterValue = !KEYWORDS.has(word) || ['true', 'false', 'null'].includes(word);
      return KEYWORDS.has(word) ? 'keyword' : 'propertyName';
    }
    stream.next();
    state.afterValue = ch === ')' || ch === ']' || ch === '}';
    return '([{}])'.includes(ch) ? 'bracket' : 'operator';
  },
});

const style = HighlightStyle.define([
  { tag: tags.propertyName, class: 'cm-j-name' },
  { tag: tags.variableName, class: 'cm-j-variable' },
  { tag: tags.string, class: 'cm-j-string' },
  { tag: tags.regexp, class: 'cm-j-regex' },
  { tag: tags.number, class: 'cm-j-number' },
  { tag: tags.keyword, class: 'cm-j-keyword' },
  { tag: tags.operator, class: 'cm-j-operator' },
  { tag: tags.bracket, class: 'cm-j-open' },
  { tag: tags.comment, class: 'cm-j-comment' },
]);

/** JSONata highlighting (and brackets CodeMirror's bracket matching can see). */
export const jsonataHighlighting = [jsonataStream, syntaxHighlighting(style)];
