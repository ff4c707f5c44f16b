// The Outbound tab's logic that needs no React: the event-type picker's selection (exact names,
// "entity.*" and "*", matched as core/outboundEvents.ts eventMatches does), the custom-header
// rows and their checks (mirroring core/outboundSubscriptions.ts; the server has the last word),
// a subscription's status, the delivery log's filter, and which dialog field a server error names.
import { HEADER_PATTERN } from './validate.ts';

/** A Chip's tone (components/ui.tsx ChipTone; spelled out here so this file needs no JSX, for the unit tests). */
type ChipTone = 'ok' | 'warn' | 'bad' | 'muted' | 'info';

export interface EventTypeLike {
  name: string;
  entity: string;
}

/** A DOM id (and translation key) part for an event type or entity: "ticket.created" → "ticket-created" (dots are awkward in selectors and i18next keys). */
export function eventDomId(name: string): string {
  return name.replace(/[^a-z0-9_-]/gi, '-');
}

/** Does `pattern` ("*", "ticket.*" or an exact name) cover `eventType`? */
export function patternCovers(pattern: string, eventType: string): boolean {
  return pattern === '*' || pattern === eventType || (pattern.endsWith('.*') && eventType.startsWith(pattern.slice(0, -1)));
}

export function isCovered(selected: readonly string[], eventType: string): boolean {
  return selected.some((p) => patternCovers(p, eventType));
}

/** The catalogue grouped by entity, in the catalogue's order (the picker's sections). */
export function groupByEntity<T extends EventTypeLike>(types: readonly T[]): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const type of types) groups.set(type.entity, [...(groups.get(type.entity) ?? []), type]);
  return [...groups.entries()];
}

/** The selection in a stable order: "*", then each entity's wildcard and names in catalogue order, then unknown patterns. */
function ordered(selected: Iterable<string>, catalogue: readonly EventTypeLike[]): string[] {
  const set = new Set(selected);
  const out: string[] = [];
  const take = (p: string) => {
    if (set.delete(p)) out.push(p);
  };
  take('*');
  for (const [entity, types] of groupByEntity(catalogue)) {
    take(`${entity}.*`);
    for (const t of types) take(t.name);
  }
  return [...out, ...set];
}

/** Every event ("*") on, or the whole selection off. */
export function toggleAll(on: boolean): string[] {
  return on ? ['*'] : [];
}

/** "entity.*" on (its exact names then say nothing more and are dropped), or off. */
export function toggleEntity(selected: readonly string[], entity: string, on: boolean, catalogue: readonly EventTypeLike[]): string[] {
  const wildcard = `${entity}.*`;
  const rest = selected.filter((p) => p !== wildcard && !(on && patternCovers(wildcard, p)));
  return ordered(on ? [...rest, wildcard] : rest, catalogue);
}

export function toggleType(selected: readonly string[], name: string, on: boolean, catalogue: readonly EventTypeLike[]): string[] {
  const rest = selected.filter((p) => p !== name);
  return ordered(on ? [...rest, name] : rest, catalogue);
}

/** The selection as the server stores it, in the picker's order. */
export function normalizePatterns(selected: readonly string[], catalogue: readonly EventTypeLike[]): string[] {
  if (selected.includes('*')) return ['*'];
  return ordered(selected, catalogue);
}

export interface HeaderRow {
  name: string;
  value: string;
}

export function headerRows(headers: Record<string, string> | null | undefined): HeaderRow[] {
  return Object.entries(headers ?? {}).map(([name, value]) => ({ name, value: String(value) }));
}

/** The rows as the API's {name: value}; rows left entirely blank are ignored. */
export function headersObject(rows: readonly HeaderRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const row of rows) if (row.name.trim() || row.value.trim()) out[row.name.trim()] = row.value;
  return out;
}

/** set by Intake on every attempt (core/outboundSubscriptions.ts RESERVED_HEADERS) */
const SET_BY_INTAKE = new Set(['content-type', 'content-length', 'host', 'user-agent', 'transfer-encoding', 'connection']);

export type HeaderProblem = 'name' | 'reserved' | 'setByIntake' | 'duplicate' | 'lineBreak';

/** What is wrong with each row (by index); rows left blank have no problem. */
export function headerProblems(rows: readonly HeaderRow[]): Map<number, HeaderProblem> {
  const problems = new Map<number, HeaderProblem>();
  const seen = new Set<string>();
  rows.forEach((row, index) => {
    const name = row.name.trim();
    if (!name && !row.value.trim()) return;
    const lower = name.toLowerCase();
    if (!HEADER_PATTERN.test(name)) problems.set(index, 'name');
    else if (lower.startsWith('webhook-')) problems.set(index, 'reserved');
    else if (SET_BY_INTAKE.has(lower)) problems.set(index, 'setByIntake');
    else if (seen.has(lower)) problems.set(index, 'duplicate');
    else if (/[\r\n\0]/.test(row.value)) problems.set(index, 'lineBreak');
    seen.add(lower);
  });
  return problems;
}

export type UrlProblem = 'required' | 'notUrl' | 'scheme' | 'credentials' | null;

/** The checks the browser can make; https-only and the address rules are the server's (it knows the operator's settings). */
export function urlProblem(text: string): UrlProblem {
  const value = text.trim();
  if (!value) return 'required';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'notUrl';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'scheme';
  if (url.username || url.password) return 'credentials';
  return null;
}

/** Empty is "no limit"; otherwise a whole number from 1 to 100,000 (the column's check). */
export function rateLimitProblem(text: string): boolean {
  const value = text.trim();
  return value !== '' && (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100_000);
}

export interface SubscriptionLike {
  isActive: boolean;
  autoDisabledAt: string | null;
  failingSince: string | null;
}

export function subscriptionStatus(s: SubscriptionLike): { key: string; tone: ChipTone } {
  if (!s.isActive && s.autoDisabledAt) return { key: 'outbound.status.autoDisabled', tone: 'bad' };
  if (!s.isActive) return { key: 'outbound.status.inactive', tone: 'muted' };
  if (s.failingSince) return { key: 'outbound.status.failing', tone: 'warn' };
  return { key: 'outbound.status.active', tone: 'ok' };
}

export function deliveryTone(status: string): ChipTone {
  return status === 'succeeded' ? 'ok' : status === 'failed' ? 'bad' : status === 'pending' ? 'info' : 'muted';
}

/** The rotation overlaps offered, in seconds (the server allows 0 to 7 days; 24 h is its default). */
export const OVERLAP_CHOICES = [0, 3_600, 86_400, 3 * 86_400, 7 * 86_400] as const;
export const DEFAULT_OVERLAP = 86_400;

/** "Recover failed deliveries since…": how far back each choice reaches. */
export const RECOVER_WINDOWS = { hour: 3_600, day: 86_400, threeDays: 3 * 86_400, week: 7 * 86_400 } as const;
export type RecoverWindow = keyof typeof RECOVER_WINDOWS;

export function recoverSince(window: RecoverWindow, now: Date): string {
  return new Date(now.getTime() - RECOVER_WINDOWS[window] * 1000).toISOString();
}

export interface OutboundDeliveryFilter {
  status: string;
  eventType: string;
  from: string;
  to: string;
}

/** The filter as outboundDeliveries' condition for one subscription (dates are whole days in UTC; `to` inclusive). */
export function deliveryCondition(subscriptionId: string, f: OutboundDeliveryFilter): Record<string, unknown> {
  const c: Record<string, unknown> = { subscriptionId };
  if (f.status) c.status = f.status;
  if (f.eventType) c.eventType = f.eventType;
  if (/^\d{4}-\d{2}-\d{2}$/.test(f.from)) c.createdFrom = `${f.from}T00:00:00Z`;
  if (/^\d{4}-\d{2}-\d{2}$/.test(f.to)) {
    const next = new Date(`${f.to}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    c.createdBefore = next.toISOString();
  }
  return c;
}

export type OutboundField = 'url' | 'description' | 'eventTypes' | 'headers' | 'rateLimit';

const FIELD_OF: Record<string, OutboundField> = {
  url: 'url',
  description: 'description',
  eventTypes: 'eventTypes',
  event_types: 'eventTypes',
  headers: 'headers',
  rateLimitPerMinute: 'rateLimit',
  rate_limit_per_minute: 'rateLimit',
};

const FIELD_PREFIX = /^([A-Za-z_][A-Za-z0-9_]*):\s/;

/** The dialog field a server error names ("url: refused: …", or extensions.details.field), or null. */
export function outboundFieldOf(error: { message: string; field?: string | undefined }): OutboundField | null {
  const name = error.field ?? FIELD_PREFIX.exec(error.message)?.[1];
  return (name && FIELD_OF[name]) || null;
}

/** The message without the field name the dialog already shows it beside. */
export function withoutFieldName(message: string): string {
  return message.replace(FIELD_PREFIX, '');
}

/** One attempt in a few words: "HTTP 200", "HTTP 503", or the error (no response). */
export function attemptOutcome(a: { succeeded: boolean; responseStatus: number | null; errorMessage: string | null }): { tone: ChipTone; text: string } {
  if (a.responseStatus !== null) return { tone: a.succeeded ? 'ok' : 'bad', text: `HTTP ${a.responseStatus}` };
  return { tone: 'bad', text: a.errorMessage ?? '—' };
}
