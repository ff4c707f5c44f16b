// One small CodeMirror 6 editor for one JSONata expression (a mapping field, the idempotency
// expression), with its live preview underneath. The language smarts are the DOM-free modules
// beside this file; here they are adapted to CodeMirror: highlighting from highlight.ts, completion
// and hover from complete.ts, diagnostics from diagnostics.ts and fieldCheck.ts, evaluation in
// the Web Worker of evaluator.ts.
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, snippet, type Completion, type CompletionContext } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { bracketMatching } from '@codemirror/language';
import { linter, type Diagnostic as CmDiagnostic } from '@codemirror/lint';
import { EditorState, StateEffect } from '@codemirror/state';
import { EditorView, hoverTooltip, keymap, placeholder as placeholderExt } from '@codemirror/view';
import { memo, useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Chip } from '../components/ui.tsx';
import { completionsAt, hoverAt, type CompletionItem } from './complete.ts';
import { diagnose, parse, type Diagnostic } from './diagnostics.ts';
import { EvaluationError, evaluateInWorker } from './evaluator.ts';
import { checkValue, type FieldInfo, type Problem } from './fieldCheck.ts';
import { jsonataHighlighting } from './highlight.ts';
import { exampleOf, valueType } from './values.ts';

type T = (key: string, params?: Record<string, unknown>) => string;

export interface EditorHandle {
  /** inserts text at the cursor (replacing the selection) and focuses the editor */
  insert(text: string): void;
}

/** What the preview shows: nothing to evaluate on, a value (with its check), or an error. */
export type PreviewState =
  | { kind: 'empty' }
  | { kind: 'no-input' }
  | { kind: 'pending' }
  | { kind: 'value'; value: unknown; problem: Problem | null }
  | { kind: 'error'; code: string; message: string };

const theme = EditorView.theme({
  '&': { border: '1px solid var(--border)', borderRadius: '6px', background: 'var(--surface)', fontSize: '12.5px' },
  '&.cm-focused': { outline: '2px solid var(--focus)', outlineOffset: '0' },
  '.cm-content': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', padding: '6px 0', caretColor: 'var(--text)' },
  '.cm-line': { padding: '0 8px' },
  '.cm-placeholder': { color: 'var(--muted)' },
  '.cm-tooltip': { border: '1px solid var(--border)', background: 'var(--surface)', color: 'var(--text)', borderRadius: '6px', boxShadow: 'var(--shadow)' },
  '.cm-tooltip-autocomplete > ul > li[aria-selected]': { background: 'var(--accent)', color: 'var(--accent-text)' },
  '.cm-completionDetail': { fontStyle: 'normal', color: 'inherit', opacity: '0.75', marginLeft: '12px' },
  '.cm-tooltip-hover': { padding: '6px 8px', maxWidth: '420px' },
  '.cm-matchingBracket': { background: 'var(--info-bg)', outline: '1px solid var(--info)' },
  '.cm-nonmatchingBracket': { background: 'var(--bad-bg)' },
});

/** How long typing may pause before the form is told the new value. */
const REPORT_DELAY_MS = 150;

/** Dispatched when what the expression is evaluated on changes: the linter (and preview) run again. */
const inputChanged = StateEffect.define<null>();

/** A diagnostic's message in the UI language. */
export function diagnosticText(t: T, d: Pick<Diagnostic, 'key' | 'params'>): string {
  return t(d.key, d.params);
}

/** A field check's message in the UI language ("expected an integer, got the string \"abc\""). */
export function problemText(t: T, p: Problem): string {
  return t(p.key, { ...p.params, got: t(`editor.type.${p.params.got}`, { defaultValue: String(p.params.got) }) });
}

function completionOf(item: CompletionItem, t: T): Completion {
  const apply = (view: EditorView, completion: Completion, _from: number, to: number) => {
    if (item.snippet) snippet(item.insert)(view, completion, item.from, to);
    else view.dispatch({ changes: { from: item.from, to, insert: item.insert }, selection: { anchor: item.from + item.insert.length }, userEvent: 'input.complete' });
  };
  const type = item.kind === 'property' ? 'property' : item.kind === 'function' ? 'function' : item.kind === 'variable' ? 'variable' : 'keyword';
  const detail = item.kind === 'function' ? item.detail : item.kind === 'predicate' ? t('editor.completion.predicate') : `${t(`editor.type.${item.detail}`, { defaultValue: item.detail })}${item.example ? `  ${item.example}` : ''}`;
  return {
    label: item.label,
    type,
    detail,
    apply,
    ...(item.kind === 'function' ? { info: t(`editor.fn.${item.label.slice(1)}`, { defaultValue: '' }) || undefined } : {}),
  };
}

interface Props {
  /** on the element holding CodeMirror's content (.cm-content) */
  id: string;
  value: string;
  onChange: (value: string) => void;
  /** what completion and the preview evaluate on: the sample, or the chosen test delivery's body */
  input: unknown;
  hasInput: boolean;
  field: FieldInfo;
  label: string;
  describedBy?: string | undefined;
  invalid?: boolean;
  placeholder?: string;
  onFocus?: (handle: EditorHandle) => void;
  /** told the expression and its first syntax error's message (or null) each time it is checked: the form refuses to save on one */
  onSyntax?: (source: string, message: string | null) => void;
  handleRef?: (handle: EditorHandle | null) => void;
  previewId: string;
  /** shown under the preview (the dry run's verdict for this field); re-rendered when footerKey changes */
  footer?: ReactNode;
  footerKey?: string;
}

/**
 * The form re-renders on every keystroke in any field; an editor only needs to when its own
 * data changes (its callbacks are read through a ref, so new closures do not count).
 */
function sameProps(a: Props, b: Props): boolean {
  return (
    a.id === b.id && a.value === b.value && a.input === b.input && a.hasInput === b.hasInput && JSON.stringify(a.field) === JSON.stringify(b.field) &&
    a.label === b.label && a.describedBy === b.describedBy && a.invalid === b.invalid && a.placeholder === b.placeholder && a.previewId === b.previewId &&
    a.footerKey === b.footerKey
  );
}

export const ExpressionEditor = memo(function ExpressionEditor({
  id,
  value,
  onChange,
  input,
  hasInput,
  field,
  label,
  describedBy,
  invalid,
  placeholder,
  onFocus,
  onSyntax,
  handleRef,
  previewId,
  footer,
}: Props) {
  const { t } = useTranslation();
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  /** what this editor reported lately: React hands these back a render later, never to be re-applied */
  const emitted = useRef<string[]>([]);
  const report = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const live = useRef({ input, hasInput, field, t: t as T, onChange, onFocus, onSyntax });
  live.current = { input, hasInput, field, t: t as T, onChange, onFocus, onSyntax };
  const [preview, setPreview] = useState<PreviewState>({ kind: value.trim() ? 'pending' : 'empty' });
  const handle = useRef<EditorHandle>({
    insert(text: string) {
      const v = view.current;
      if (!v) return;
      const { from, to } = v.state.selection.main;
      v.dispatch({ changes: { from, to, insert: text }, selection: { anchor: from + text.length }, userEvent: 'input' });
      v.focus();
    },
  });

  useEffect(() => {
    handleRef?.(handle.current);
    const evaluate = async (src: string): Promise<PreviewState> => {
      const { input, hasInput, field } = live.current;
      if (!src.trim()) return { kind: 'empty' };
      if (!hasInput) return { kind: 'no-input' };
      try {
        const value = await evaluateInWorker(src, input);
        return { kind: 'value', value, problem: checkValue(value, field) };
      } catch (error) {
        const e = error instanceof EvaluationError ? error : new EvaluationError('ERROR', String(error));
        return { kind: 'error', code: e.code, message: e.message };
      }
    };
    const lint = async (v: EditorView): Promise<CmDiagnostic[]> => {
      const src = v.state.doc.toString();
      const { input, hasInput, t } = live.current;
      const found = diagnose(src, hasInput ? input : undefined);
      const out: CmDiagnostic[] = found.map((d) => ({ from: d.from, to: d.to, severity: d.severity, message: diagnosticText(t, d) }));
      const syntax = out.find((d) => d.severity === 'error');
      live.current.onSyntax?.(src, syntax ? syntax.message : null);
      if (syntax) {
        setPreview({ kind: 'error', code: 'SYNTAX', message: syntax.message });
        return out;
      }
      setPreview((p) => (p.kind === 'value' || p.kind === 'error' ? p : { kind: 'pending' }));
      const result = await evaluate(src);
      if (v.state.doc.toString() !== src) return out; // typed on meanwhile: a newer run follows
      setPreview(result);
      if (result.kind === 'value' && result.problem) out.push({ from: 0, to: src.length, severity: 'warning', message: problemText(t, result.problem) });
      if (result.kind === 'error') out.push({ from: 0, to: src.length, severity: 'warning', message: result.code === 'TIMEOUT' ? t('editor.preview.timeout') : result.message });
      return out;
    };
    const hover = hoverTooltip(async (v, pos) => {
      const { input, hasInput, t } = live.current;
      const info = await hoverAt(v.state.doc.toString(), pos, hasInput ? input : undefined, evaluateInWorker);
      if (!info) return null;
      return {
        pos: info.from,
        end: info.to,
        above: true,
        create: () => {
          const dom = document.createElement('div');
          dom.setAttribute('translate', 'no');
          const title = dom.appendChild(document.createElement('code'));
          title.textContent = info.title;
          const detail = dom.appendChild(document.createElement('div'));
          detail.className = 'muted small';
          detail.textContent = info.title.startsWith('$') ? t(`editor.fn.${info.detail}`, { defaultValue: '' }) : info.missing ? t('editor.hover.missing') : info.detail;
          return { dom };
        },
      };
    });
    const complete = async (ctx: CompletionContext) => {
      const { input, hasInput, t } = live.current;
      const before = ctx.matchBefore(/[\w$`.[]*$/);
      if (!ctx.explicit && (!before || before.from === before.to)) return null;
      const result = await completionsAt(ctx.state.doc.toString(), ctx.pos, hasInput ? input : {}, evaluateInWorker);
      // the list comes from the worker a moment later: not for an editor the user has left meanwhile
      if (ctx.aborted || (ctx.view && !ctx.view.hasFocus)) return null;
      if (!result || result.items.length === 0) return null;
      return { from: Math.min(result.from, ...result.items.map((i) => i.from)), options: result.items.map((i) => completionOf(i, t)), filter: false };
    };
    const flush = () => {
      clearTimeout(report.current);
      const doc = view.current?.state.doc.toString();
      if (doc === undefined || doc === emitted.current.at(-1)) return;
      emitted.current = [...emitted.current.slice(-49), doc];
      // the verdict on syntax goes with the value: the linter waits 250 ms, and a Save clicked
      // sooner than that must still find the error here, not send the draft to the server
      const syntax = parse(doc).diagnostics.find((d) => d.severity === 'error');
      live.current.onSyntax?.(doc, syntax ? diagnosticText(live.current.t, syntax) : null);
      live.current.onChange(doc);
    };
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          history(),
          closeBrackets(),
          bracketMatching(),
          jsonataHighlighting,
          autocompletion({ override: [complete], activateOnTyping: true, icons: false }),
          linter(lint, { delay: 250, needsRefresh: (u) => u.transactions.some((tr) => tr.effects.some((e) => e.is(inputChanged))) }),
          hover,
          keymap.of([...closeBracketsKeymap, ...completionKeymap, ...defaultKeymap, ...historyKeymap]),
          EditorView.lineWrapping,
          theme,
          ...(placeholder ? [placeholderExt(placeholder)] : []),
          EditorView.contentAttributes.of({ id, 'aria-label': label, translate: 'no', spellcheck: 'false', autocapitalize: 'off', autocorrect: 'off' }),
          // CodeMirror hears of a blur 10 ms late (updateForFocusChange); a click on Save is
          // quicker than that, so the DOM's own blur (at the mousedown) tells the form at once
          EditorView.domEventHandlers({ blur: () => (flush(), false) }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) {
              // the form hears of typing once it pauses (a re-render of the whole dialog per key
              // is what made typing lag), and at once when the editor loses focus (before Save)
              clearTimeout(report.current);
              report.current = setTimeout(flush, REPORT_DELAY_MS);
            }
            if (u.focusChanged && !u.view.hasFocus) flush();
            if (u.focusChanged && u.view.hasFocus) live.current.onFocus?.(handle.current);
          }),
        ],
      }),
    });
    view.current = v;
    emitted.current = [value];
    return () => {
      flush();
      handleRef?.(null);
      v.destroy();
      view.current = null;
    };
    // the editor is made once; value/props reach it through `live` and the effects below
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // a value set from outside (a field cleared, a form reset) replaces the document; a value this
  // editor reported itself is only React catching up with typing that has gone on since
  useEffect(() => {
    const v = view.current;
    if (!v || v.state.doc.toString() === value || emitted.current.includes(value)) return;
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
  }, [value]);

  // a new sample or test input (or field type): check and preview again
  const fieldKey = JSON.stringify(field);
  useEffect(() => {
    view.current?.dispatch({ effects: inputChanged.of(null) });
  }, [input, hasInput, fieldKey]);

  // aria state that changes with the form
  useEffect(() => {
    const content = view.current?.contentDOM;
    if (!content) return;
    if (invalid) content.setAttribute('aria-invalid', 'true');
    else content.removeAttribute('aria-invalid');
    const ids = [previewId, describedBy].filter(Boolean).join(' ');
    content.setAttribute('aria-describedby', ids);
  }, [invalid, describedBy, previewId]);

  return (
    <div className="expr">
      <div ref={host} className="expr-editor" />
      <Preview id={previewId} state={preview} field={field} />
      {footer}
    </div>
  );
}, sameProps);

function Preview({ id, state, field }: { id: string; state: PreviewState; field: FieldInfo }) {
  const { t } = useTranslation();
  let body: ReactNode;
  switch (state.kind) {
    case 'empty':
      body = field.required ? <span className="preview-warn">⚠ {t('editor.preview.required')}</span> : <span className="muted">{t('editor.preview.unmapped')}</span>;
      break;
    case 'no-input':
      body = <span className="muted">{t('editor.preview.noInput')}</span>;
      break;
    case 'pending':
      body = <span className="muted">{t('editor.preview.pending')}</span>;
      break;
    case 'error':
      body = (
        <span className="preview-warn">
          ⚠ {state.code === 'TIMEOUT' ? t('editor.preview.timeout') : <span translate="no">{state.message}</span>}
        </span>
      );
      break;
    case 'value': {
      const type = valueType(state.value);
      body = (
        <>
          <Chip tone={state.problem ? 'warn' : 'ok'}>{t(`editor.type.${type}`)}</Chip>
          <code className="preview-value" translate="no">
            {state.value === undefined ? t('editor.preview.nothing') : exampleOf(state.value, 120)}
          </code>
          {state.problem ? <span className="preview-warn">⚠ {problemText(t as T, state.problem)}</span> : <span className="preview-ok">✓ {t('editor.preview.fits')}</span>}
        </>
      );
      break;
    }
  }
  return (
    <div className="preview" id={id} aria-live="polite">
      {body}
    </div>
  );
}
