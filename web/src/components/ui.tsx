// Small building blocks every screen shares. Focus, keyboard and ARIA behaviour come from React
// Aria Components; these only add the app's look and its i18n.
import { useEffect, useState, type ReactNode } from 'react';
import {
  Button,
  Dialog,
  FieldError,
  Header,
  Input,
  Label,
  ListBox,
  ListBoxItem,
  ListBoxSection,
  Modal,
  ModalOverlay,
  Popover,
  Select,
  SelectValue,
  Heading,
  Text,
  TextArea,
  TextField,
  UNSTABLE_Toast as Toast,
  UNSTABLE_ToastContent as ToastContent,
  UNSTABLE_ToastQueue as ToastQueue,
  UNSTABLE_ToastRegion as ToastRegion,
} from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../lib/api.ts';
import { intlLocale } from '../lib/i18n.ts';
import { formatExact, formatRelative } from '../lib/time.ts';

export function Loading({ label }: { label: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function errorText(t: (key: string, o?: Record<string, unknown>) => string, error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === 'NETWORK') return t('errors.network');
    if (error.code === 'TIMEOUT') return t('errors.timeout');
    if (error.code === 'FORBIDDEN') return t('errors.forbidden');
    if (error.code === 'UNAUTHENTICATED') return t('errors.unauthenticated');
    if (error.message) return error.message;
    return t('errors.status', { status: error.status });
  }
  return t('errors.unexpected');
}

export function ErrorState({ error, onRetry, id = 'error-retry' }: { error: unknown; onRetry?: () => void; id?: string }) {
  const { t } = useTranslation();
  return (
    <div className="callout callout-error" role="alert">
      <strong>{t('errors.title')}</strong>
      <p translate={error instanceof ApiError && error.message && !['NETWORK', 'TIMEOUT', 'FORBIDDEN', 'UNAUTHENTICATED'].includes(error.code) ? 'no' : undefined}>
        {errorText(t, error)}
      </p>
      {onRetry && (
        <Button id={id} className="btn" onPress={onRetry}>
          {t('common.retry')}
        </Button>
      )}
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <h3>{title}</h3>
      {children}
      {action && <div className="empty-action">{action}</div>}
    </div>
  );
}

export type ChipTone = 'ok' | 'warn' | 'bad' | 'muted' | 'info';
export function Chip({ tone, children }: { tone: ChipTone; children: ReactNode }) {
  return <span className={`chip chip-${tone}`}>{children}</span>;
}

/** A time shown relative ("3 minutes ago") with the exact time on hover; locale data, not UI text. */
export function RelTime({ value }: { value: string }) {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 15_000);
    return () => clearInterval(timer);
  }, []);
  const locale = intlLocale();
  return (
    <time dateTime={value} title={formatExact(value, locale)} translate="no">
      {formatRelative(value, now, locale)}
    </time>
  );
}

export const toasts = new ToastQueue<{ title: string; tone?: 'ok' | 'bad' }>({ maxVisibleToasts: 3 });

export function notify(title: string, tone: 'ok' | 'bad' = 'ok'): void {
  toasts.add({ title, tone }, { timeout: 5000 });
}

export function ToastHost() {
  const { t } = useTranslation();
  return (
    <ToastRegion queue={toasts} className="toast-region" aria-label={t('common.notifications')}>
      {({ toast }) => (
        <Toast toast={toast} className={`toast toast-${toast.content.tone ?? 'ok'}`}>
          <ToastContent>
            <Text slot="title">{toast.content.title}</Text>
          </ToastContent>
          <Button slot="close" className="btn-icon" aria-label={t('common.close')} id={`toast-close-${toast.key}`}>
            ×
          </Button>
        </Toast>
      )}
    </ToastRegion>
  );
}

export function CopyButton({ id, text, label }: { id: string; text: string; label?: string }) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  return (
    <Button
      id={id}
      className="btn btn-small"
      // the visible word is in the accessible name, also while it reads "Copied" (WCAG 2.5.3)
      aria-label={copied ? t('common.copied') : (label ?? t('common.copy'))}
      onPress={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        } catch {
          notify(t('common.copyFailed'), 'bad');
        }
      }}
    >
      {copied ? t('common.copied') : t('common.copy')}
    </Button>
  );
}

interface FieldProps {
  id: string;
  label: ReactNode;
  value: string;
  onChange: (value: string) => void;
  description?: ReactNode;
  error?: string | null;
  type?: string;
  placeholder?: string;
  isRequired?: boolean;
  isDisabled?: boolean;
  multiline?: boolean;
  rows?: number;
  autoComplete?: string;
  inputMode?: 'numeric' | 'text';
  className?: string;
  mono?: boolean;
}

export function Field(props: FieldProps) {
  const invalid = !!props.error;
  return (
    <TextField
      className={`field ${props.className ?? ''}`}
      value={props.value}
      onChange={props.onChange}
      isInvalid={invalid}
      isRequired={props.isRequired ?? false}
      isDisabled={props.isDisabled ?? false}
      type={props.type ?? 'text'}
      {...(props.autoComplete ? { autoComplete: props.autoComplete } : {})}
      validationBehavior="aria"
    >
      <Label className="field-label">{props.label}</Label>
      {props.multiline ? (
        <TextArea id={props.id} rows={props.rows ?? 3} placeholder={props.placeholder} className={props.mono ? 'mono' : undefined} />
      ) : (
        <Input id={props.id} placeholder={props.placeholder} inputMode={props.inputMode} className={props.mono ? 'mono' : undefined} />
      )}
      {props.description && !invalid && <Text slot="description">{props.description}</Text>}
      <FieldError>{props.error}</FieldError>
    </TextField>
  );
}

export interface Choice {
  id: string;
  label: string;
  section?: string;
  /** data (a webhook's or an action's name), not UI text: kept out of translation */
  raw?: boolean;
}

export function SelectField({
  id,
  label,
  value,
  onChange,
  choices,
  description,
  error,
  isDisabled,
  placeholder,
}: {
  id: string;
  label: string;
  value: string | null;
  onChange: (value: string) => void;
  choices: Choice[];
  description?: string;
  error?: string | null;
  isDisabled?: boolean;
  placeholder?: string;
}) {
  const sections = new Map<string, Choice[]>();
  for (const choice of choices) {
    const key = choice.section ?? '';
    sections.set(key, [...(sections.get(key) ?? []), choice]);
  }
  const grouped = choices.some((c) => c.section);
  const item = (c: Choice) => (
    <ListBoxItem key={c.id} id={c.id} textValue={c.label} className="option">
      {c.raw ? <span translate="no">{c.label}</span> : c.label}
    </ListBoxItem>
  );
  return (
    <Select
      className="field"
      selectedKey={value}
      onSelectionChange={(key) => key !== null && onChange(String(key))}
      isInvalid={!!error}
      isDisabled={isDisabled ?? false}
      {...(placeholder ? { placeholder } : {})}
    >
      <Label className="field-label">{label}</Label>
      <Button id={id} className="select-trigger">
        <SelectValue />
        <span aria-hidden="true" className="select-caret">
          ▾
        </span>
      </Button>
      {description && !error && <Text slot="description">{description}</Text>}
      <FieldError>{error}</FieldError>
      <Popover className="popover">
        <ListBox className="listbox" id={`${id}-options`}>
          {grouped
            ? [...sections.entries()].map(([section, items]) => (
                <ListBoxSection key={section} id={`${id}-section-${section}`} className="listbox-section">
                  <Header className="listbox-header">{section}</Header>
                  {items.map(item)}
                </ListBoxSection>
              ))
            : choices.map(item)}
        </ListBox>
      </Popover>
    </Select>
  );
}

/** A labelled value shown in full (`id` is the element whose text is the value) with its copy button (`<id>-copy`). */
export function CopyableValue({ id, label, value, copyLabel }: { id: string; label: string; value: string; copyLabel: string }) {
  return (
    <div>
      <div className="label">{label}</div>
      <div className="copy-row">
        <code id={id} className="secret-box" translate="no">
          {value}
        </code>
        <CopyButton id={`${id}-copy`} text={value} label={copyLabel} />
      </div>
    </div>
  );
}

/** JSON (or text) as it was sent or received, pretty-printed, never translated. */
export function JsonBlock({ value, id, tall = true }: { value: unknown; id?: string; tall?: boolean }) {
  return (
    <pre className={tall ? 'code code-tall' : 'code'} translate="no" id={id}>
      {typeof value === 'string' ? value : JSON.stringify(value, null, 2)}
    </pre>
  );
}

/** HTTP headers as a compact name → value table (multi-valued headers joined). */
export function HeadersTable({ headers, id }: { headers: Record<string, unknown> | null | undefined; id?: string }) {
  return (
    <table className="table table-compact" id={id}>
      <tbody>
        {Object.entries(headers ?? {}).map(([name, value]) => (
          <tr key={name}>
            <th scope="row" translate="no" className="mono">
              {name}
            </th>
            <td translate="no" className="mono break">
              {Array.isArray(value) ? value.join(', ') : String(value)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The side drawer a log opens one row in (inbound and outbound deliveries): a titled dialog at the
 * right edge with a close button (`<closeId>`); Escape and a click outside close it too.
 */
export function Drawer({ id, title, closeId, onClose, children }: { id: string; title: string; closeId: string; onClose: () => void; children: ReactNode }) {
  const { t } = useTranslation();
  return (
    <ModalOverlay isOpen isDismissable onOpenChange={(o) => !o && onClose()} className="overlay overlay-drawer">
      <Modal className="drawer">
        <Dialog className="dialog drawer-dialog" id={id} aria-labelledby={`${id}-title`}>
          <div className="drawer-head">
            <Heading slot="title" id={`${id}-title`}>
              {title}
            </Heading>
            <Button id={closeId} className="btn-icon" onPress={onClose} aria-label={t('common.close')}>
              ×
            </Button>
          </div>
          {children}
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}

/** A modal dialog with its title (`<id>-title`); `size` picks the width. Escape and a click outside close it unless `isDismissable` is false. */
export function ModalDialog({ id, title, size, isDismissable = true, onClose, role, children }: {
  id: string;
  title: ReactNode;
  size?: 'small' | 'wide';
  isDismissable?: boolean;
  onClose?: () => void;
  role?: 'dialog' | 'alertdialog';
  children: ReactNode;
}) {
  return (
    <ModalOverlay isOpen isDismissable={isDismissable} onOpenChange={(open) => !open && onClose?.()} className="overlay">
      <Modal className={size ? `modal modal-${size}` : 'modal'}>
        <Dialog className="dialog" id={id} role={role ?? 'dialog'} aria-labelledby={`${id}-title`}>
          <Heading slot="title" id={`${id}-title`}>
            {title}
          </Heading>
          {children}
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}

/** "Are you sure?": a small alert dialog with what will happen, the error if it failed, Cancel and the action. */
export function ConfirmDialog({ id, title, body, children, confirmLabel, confirmId, cancelId, onConfirm, onCancel, isPending, error, danger }: {
  id: string;
  title: string;
  body: ReactNode;
  children?: ReactNode;
  confirmLabel: string;
  confirmId: string;
  cancelId: string;
  onConfirm: () => void;
  onCancel: () => void;
  isPending?: boolean;
  error?: unknown;
  danger?: boolean;
}) {
  const { t } = useTranslation();
  return (
    <ModalDialog id={id} title={title} size="small" role="alertdialog" onClose={onCancel}>
      <p>{body}</p>
      {children}
      {error ? <p className="error-text">{errorText(t, error)}</p> : null}
      <div className="dialog-actions">
        <Button id={cancelId} className="btn" onPress={onCancel}>
          {t('common.cancel')}
        </Button>
        <Button id={confirmId} className={danger ? 'btn btn-danger' : 'btn btn-primary'} onPress={onConfirm} isDisabled={isPending ?? false}>
          {confirmLabel}
        </Button>
      </div>
    </ModalDialog>
  );
}

/** Under a log: "Showing n of m" and, while there is more, the button that loads the next page. */
export function LogPager({ summary, moreId, moreLabel, hasMore, isLoadingMore, onMore }: {
  summary: string;
  moreId: string;
  moreLabel: string;
  hasMore: boolean;
  isLoadingMore: boolean;
  onMore: () => void;
}) {
  const { t } = useTranslation();
  return (
    <div className="pager">
      <span className="muted small">{summary}</span>
      {hasMore && (
        <Button id={moreId} className="btn" onPress={onMore} isDisabled={isLoadingMore}>
          {isLoadingMore ? t('common.loading') : moreLabel}
        </Button>
      )}
    </div>
  );
}
