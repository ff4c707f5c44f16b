// The Outbound tab's logic that needs no browser (web/src/lib/outbound.ts), held to the server's
// own rules where it mirrors them: the picker's matching is core's eventMatches, the header and
// URL checks refuse what core/outboundSubscriptions.ts refuses, a server error lands on the field
// it names; and every translation key the tab builds at run time is in the English catalog.
import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.ts';
import { eventMatches, OUTBOUND_EVENT_TYPES } from '../core/outboundEvents.ts';
import { parseSubscriptionConfig } from '../core/outboundSubscriptions.ts';
import en from '../web/src/locales/en.json' with { type: 'json' };
import {
  OVERLAP_CHOICES, RECOVER_WINDOWS, attemptOutcome, deliveryCondition, eventDomId, groupByEntity, headerProblems, headersObject, isCovered,
  normalizePatterns, outboundFieldOf, patternCovers, rateLimitProblem, recoverSince, subscriptionStatus, toggleAll, toggleEntity,
  toggleType, urlProblem, withoutFieldName, type HeaderRow,
} from '../web/src/lib/outbound.ts';

const catalogue = OUTBOUND_EVENT_TYPES;
const policy = { allowHttp: true, allowCidrs: [] };

/** The server's verdict on a subscription config: null when accepted, else the field it names. */
function serverRefuses(change: Record<string, unknown>): string | null {
  try {
    parseSubscriptionConfig({ url: 'https://hooks.example.com/x', event_types: ['*'], ...change }, policy);
    return null;
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return String(error.details?.field);
  }
}

describe('the event-type picker', () => {
  it('covers exactly what the server matches, for every pattern the picker can make', () => {
    const patterns = ['*', ...new Set(catalogue.map((t) => `${t.entity}.*`)), ...catalogue.map((t) => t.name)];
    for (const pattern of patterns) {
      for (const type of catalogue) expect(patternCovers(pattern, type.name), `${pattern} ~ ${type.name}`).toBe(eventMatches([pattern], type.name));
    }
    // "inbound.*" covers the three-part inbound.delivery.failed; "ticket.*" does not cover "tag.added"
    expect(isCovered(['inbound.*'], 'inbound.delivery.failed')).toBe(true);
    expect(isCovered(['ticket.*'], 'tag.added')).toBe(false);
  });

  it('groups the catalogue by entity in its own order', () => {
    const groups = groupByEntity(catalogue);
    expect(groups.map(([entity]) => entity)).toEqual(['ticket', 'client', 'contact', 'asset', 'invoice', 'time_entry', 'project_task', 'tag', 'inbound', 'workflow_run']);
    expect(groups[0]![1].map((t) => t.name)).toEqual(['ticket.created', 'ticket.updated', 'ticket.status_changed', 'ticket.comment_added']);
  });

  it('a whole group replaces its exact names; types keep the catalogue order; "*" says it all', () => {
    let selected = toggleType([], 'invoice.paid', true, catalogue);
    selected = toggleType(selected, 'ticket.updated', true, catalogue);
    selected = toggleType(selected, 'ticket.created', true, catalogue);
    expect(selected).toEqual(['ticket.created', 'ticket.updated', 'invoice.paid']);
    selected = toggleEntity(selected, 'ticket', true, catalogue);
    expect(selected).toEqual(['ticket.*', 'invoice.paid']);
    expect(toggleEntity(selected, 'ticket', false, catalogue)).toEqual(['invoice.paid']);
    expect(toggleType(selected, 'invoice.paid', false, catalogue)).toEqual(['ticket.*']);
    expect(normalizePatterns(['invoice.paid', '*', 'ticket.*'], catalogue)).toEqual(['*']);
    expect(toggleAll(true)).toEqual(['*']);
    expect(toggleAll(false)).toEqual([]);
    // whatever the picker makes, the server accepts
    for (const eventTypes of [selected, ['*'], ['inbound.*', 'workflow_run.failed']]) expect(serverRefuses({ event_types: normalizePatterns(eventTypes, catalogue) })).toBeNull();
  });
});

describe('custom headers', () => {
  it.each<[HeaderRow[], string | null]>([
    [[{ name: 'X-Team', value: 'ops' }, { name: 'Authorization', value: 'Bearer abc' }], null],
    [[{ name: 'Webhook-Id', value: 'x' }], 'reserved'],
    [[{ name: 'webhook-signature', value: 'x' }], 'reserved'],
    [[{ name: 'Content-Type', value: 'text/plain' }], 'setByIntake'],
    [[{ name: 'User-Agent', value: 'me' }], 'setByIntake'],
    [[{ name: 'Bad Header', value: 'x' }], 'name'],
    [[{ name: 'X-Team', value: 'a\r\nX-Evil: 1' }], 'lineBreak'],
  ])('%j → %s, as the server decides', (rows, problem) => {
    expect(headerProblems(rows).get(0) ?? headerProblems(rows).get(1) ?? null).toBe(problem);
    expect(serverRefuses({ headers: headersObject(rows) })).toBe(problem === null ? null : 'headers');
  });

  it('flags a repeated name (any case) and ignores blank rows', () => {
    const rows = [{ name: 'X-Team', value: 'a' }, { name: '', value: '' }, { name: 'x-team', value: 'b' }];
    expect([...headerProblems(rows)]).toEqual([[2, 'duplicate']]);
    expect(headersObject([{ name: ' X-Team ', value: 'a' }, { name: '', value: ' ' }])).toEqual({ 'X-Team': 'a' });
  });
});

describe('the URL and the rate limit', () => {
  it.each([
    ['', 'required'],
    ['hooks.example.com/x', 'notUrl'],
    ['ftp://hooks.example.com/x', 'scheme'],
    ['https://user:pw@hooks.example.com/x', 'credentials'],
    ['https://hooks.example.com/x', null],
  ])('%j → %s; the server refuses whatever the browser does', (url, problem) => {
    expect(urlProblem(url)).toBe(problem);
    if (problem) expect(serverRefuses({ url })).toBe('url');
    else expect(serverRefuses({ url })).toBeNull();
  });

  it.each([
    ['', false, null],
    ['60', false, 60],
    ['100000', false, 100_000],
    ['0', true, 0],
    ['100001', true, 100_001],
    ['1.5', true, 1.5],
  ])('rate limit %j: problem %s', (text, problem, value) => {
    expect(rateLimitProblem(text)).toBe(problem);
    expect(serverRefuses({ rate_limit_per_minute: value }) !== null).toBe(problem);
  });
});

describe('server errors in the dialog', () => {
  it('puts each server refusal on the field it names, without the name', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'ftp://x.example/' }, 'url'],
      [{ event_types: ['tickt.created'] }, 'eventTypes'],
      [{ headers: { 'webhook-id': 'x' } }, 'headers'],
      [{ rate_limit_per_minute: 0 }, 'rateLimit'],
      [{ description: 'x'.repeat(1001) }, 'description'],
    ];
    for (const [change, field] of cases) {
      let error: UserError | undefined;
      try {
        parseSubscriptionConfig({ url: 'https://hooks.example.com/x', event_types: ['*'], ...change }, policy);
      } catch (e) {
        error = e as UserError;
      }
      expect(error, JSON.stringify(change)).toBeInstanceOf(UserError);
      // as GraphQL passes it on: the message, and the field in extensions.details
      expect(outboundFieldOf({ message: error!.message }), error!.message).toBe(field);
      expect(outboundFieldOf({ message: 'x', field: String(error!.details?.field) })).toBe(field);
      expect(withoutFieldName(error!.message)).not.toMatch(/^[A-Za-z_]+: /);
    }
    expect(outboundFieldOf({ message: 'outbound subscription 1 not found' })).toBeNull();
    expect(withoutFieldName('url: refused: 10.0.0.1 is a private address')).toBe('refused: 10.0.0.1 is a private address');
  });
});

describe('status, filter and attempts', () => {
  it('says what state a subscription is in', () => {
    const base = { isActive: true, autoDisabledAt: null, failingSince: null };
    expect(subscriptionStatus(base)).toEqual({ key: 'outbound.status.active', tone: 'ok' });
    expect(subscriptionStatus({ ...base, failingSince: '2026-12-01T00:00:00Z' }).key).toBe('outbound.status.failing');
    expect(subscriptionStatus({ ...base, isActive: false }).key).toBe('outbound.status.inactive');
    expect(subscriptionStatus({ isActive: false, autoDisabledAt: '2026-12-06T00:00:00Z', failingSince: '2026-12-01T00:00:00Z' })).toEqual({ key: 'outbound.status.autoDisabled', tone: 'bad' });
  });

  it('turns the filter into the deliveries condition, the "to" day inclusive', () => {
    expect(deliveryCondition('s-1', { status: '', eventType: '', from: '', to: '' })).toEqual({ subscriptionId: 's-1' });
    expect(deliveryCondition('s-1', { status: 'failed', eventType: 'ticket.created', from: '2026-12-01', to: '2026-12-07' })).toEqual({
      subscriptionId: 's-1', status: 'failed', eventType: 'ticket.created', createdFrom: '2026-12-01T00:00:00Z', createdBefore: '2026-12-08T00:00:00.000Z',
    });
    expect(deliveryCondition('s-1', { status: '', eventType: '', from: '12/01/2026', to: 'x' })).toEqual({ subscriptionId: 's-1' });
  });

  it('recovers from the chosen window back; overlaps stay within the server\'s 0 to 7 days', () => {
    const now = new Date('2026-12-07T12:00:00Z');
    expect(recoverSince('day', now)).toBe('2026-12-06T12:00:00.000Z');
    expect(recoverSince('hour', now)).toBe('2026-12-07T11:00:00.000Z');
    expect(Math.max(...Object.values(RECOVER_WINDOWS))).toBe(7 * 86_400);
    expect(OVERLAP_CHOICES.every((s) => s >= 0 && s <= 604_800)).toBe(true);
  });

  it('sums an attempt up: the HTTP answer, or the error when there was none', () => {
    expect(attemptOutcome({ succeeded: true, responseStatus: 204, errorMessage: null })).toEqual({ tone: 'ok', text: 'HTTP 204' });
    expect(attemptOutcome({ succeeded: false, responseStatus: 503, errorMessage: null })).toEqual({ tone: 'bad', text: 'HTTP 503' });
    expect(attemptOutcome({ succeeded: false, responseStatus: null, errorMessage: 'timed out after 15 s' })).toEqual({ tone: 'bad', text: 'timed out after 15 s' });
  });
});

describe('translation keys the Outbound tab builds at run time', () => {
  const has = (key: string) => {
    let node: unknown = en;
    for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
    return typeof node === 'string';
  };
  it('are all in the English catalog', () => {
    const keys = [
      ...catalogue.map((t) => `outbound.entity.${t.entity}`),
      ...catalogue.map((t) => `outbound.eventType.${eventDomId(t.name)}`),
      ...['pending', 'succeeded', 'failed'].map((s) => `outbound.delivery.${s}`),
      ...['scheduled', 'manual', 'test'].map((s) => `outbound.trigger.${s}`),
      ...Object.keys(RECOVER_WINDOWS).map((w) => `outbound.recover.window.${w}`),
      ...['required', 'notUrl', 'scheme', 'credentials'].map((p) => `outbound.form.urlProblem.${p}`),
      ...['name', 'reserved', 'setByIntake', 'duplicate', 'lineBreak'].map((p) => `outbound.form.headerProblem.${p}`),
      ...[
        { isActive: true, autoDisabledAt: null, failingSince: null },
        { isActive: true, autoDisabledAt: null, failingSince: 'x' },
        { isActive: false, autoDisabledAt: null, failingSince: null },
        { isActive: false, autoDisabledAt: 'x', failingSince: null },
      ].map((s) => subscriptionStatus(s).key),
    ];
    expect(keys.filter((k) => !has(k))).toEqual([]);
  });
});
