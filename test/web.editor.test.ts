// The mapping editor's language layer (web/src/editor/, no DOM) against real senders' payloads
// (test/fixtures/samples/): completion lists at given cursor positions, diagnostics with their
// ranges and messages (rendered from the English catalog), the field type checks agreeing with
// the worker's own validation (worker/actions/fields.ts), and back-tick quoting.
import fs from 'node:fs';
import path from 'node:path';
import i18next from 'i18next';
import jsonata from 'jsonata';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../core/env.ts';
import { schemaFor, type FieldType, type TargetField } from '../worker/actions/fields.ts';
import en from '../web/src/locales/en.json' with { type: 'json' };
import { completionsAt, cursorContext, hoverAt, type CompletionItem } from '../web/src/editor/complete.ts';
import { diagnose, parse } from '../web/src/editor/diagnostics.ts';
import { checkValue } from '../web/src/editor/fieldCheck.ts';
import { childPath, quoteName, tokenize } from '../web/src/editor/tokens.ts';
import { valueType } from '../web/src/editor/values.ts';

const sample = (name: string) => JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'samples', name), 'utf8'));
const alertmanager = sample('alertmanager-alert.firing.json');
const ninjaone = sample('ninjaone-condition.triggered.json');
const github = sample('github-issues.opened.json');
const uptimeKuma = sample('uptimekuma-monitor.down.json');

/** What the browser's worker does, in-process: jsonata with the same kind of limits. */
const evaluate = (expression: string, input: unknown) => jsonata(expression, { timeout: 500, stack: 200 } as Parameters<typeof jsonata>[1]).evaluate(input);

/** The completion list at the `|` in `text`, as label → [insert, detail, example, from]. */
async function complete(text: string, input: unknown) {
  const pos = text.indexOf('|');
  const src = text.replace('|', '');
  const result = await completionsAt(src, pos, input, evaluate);
  return result?.items ?? null;
}
const labels = (items: CompletionItem[] | null) => items?.map((i) => i.label);

let t: (key: string, params?: Record<string, unknown>) => string;
beforeAll(async () => {
  const i18n = i18next.createInstance();
  await i18n.init({ lng: 'en', resources: { en: { translation: en } }, interpolation: { escapeValue: false } });
  t = i18n.t.bind(i18n) as typeof t;
});

describe('completion from the sample', () => {
  it('after a path and a dot: the keys of what the path is, with type and example (Alertmanager)', async () => {
    const items = await complete('alerts[0].labels.|', alertmanager);
    expect(items!.map((i) => [i.label, i.insert, i.detail, i.example, i.from])).toEqual([
      ['alertname', 'alertname', 'string', '"InstanceDown"', 17],
      ['instance', 'instance', 'string', '"web-01.example.internal:9100"', 17],
      ['job', 'job', 'string', '"node"', 17],
      ['severity', 'severity', 'string', '"critical"', 17],
    ]);
  });

  it('narrows to what is typed, and replaces the typed part', async () => {
    const items = await complete('commonLabels.sev|', alertmanager);
    expect(items!.map((i) => [i.label, i.insert, i.from])).toEqual([['severity', 'severity', 13]]);
  });

  it('on an array: the keys of its items, then [0], [-1] and predicates built from the first item, replacing the dot', async () => {
    const items = await complete('alerts.|', alertmanager);
    expect(labels(items)).toEqual([
      'status', 'labels', 'annotations', 'startsAt', 'endsAt', 'generatorURL', 'fingerprint',
      '[0]', '[-1]', '[status = "firing"]', '[startsAt = "2026-05-11T14:02:13.712Z"]', '[endsAt = "2026-05-11T14:10:13.712Z"]',
    ]);
    const index = items!.find((i) => i.label === '[0]')!;
    expect([index.insert, index.from, index.detail, index.example]).toEqual(['[0].', 6, 'object', '{7}']);
    expect(items!.find((i) => i.kind === 'predicate')).toMatchObject({ insert: '[status = "firing"].', from: 6 });
    expect(items!.find((i) => i.label === 'labels')).toMatchObject({ detail: 'object', example: '{4}' });
  });

  it('inside a predicate the context is each item of the array', async () => {
    expect(labels(await complete('alerts[lab|', alertmanager))).toEqual(['labels']);
    expect(labels(await complete('alerts[labels.sev|', alertmanager))).toEqual(['severity']);
    const ctx = cursorContext('alerts[labels.severity = "critical"].annotations.', 49);
    expect(ctx).toMatchObject({ kind: 'after-dot', parent: 'alerts[labels.severity = "critical"].annotations', predicates: [] });
    expect(labels(await complete('alerts[labels.severity = "critical"].annotations.|', alertmanager))).toEqual(['description', 'summary']);
  });

  it('inside function arguments and after an operator, the context is the one outside', async () => {
    expect(labels(await complete('$uppercase(commonLabels.|', alertmanager))).toEqual(['alertname', 'instance', 'job', 'severity']);
    expect(labels(await complete('$join([commonLabels.alertname, commonLabels.inst|', alertmanager))).toEqual(['instance']);
    const afterAnd = await complete('commonLabels.alertname & " on " & commonL|', alertmanager);
    expect(labels(afterAnd)).toEqual(['commonLabels']);
    expect(afterAnd![0]!.from).toBe(34);
  });

  it('NinjaOne: nested objects, numbers as integers, strings that look like numbers stay strings', async () => {
    expect((await complete('data.message.params.|', ninjaone))!.map((i) => [i.label, i.detail, i.example])).toEqual([
      ['reboot_days', 'string', '"30"'],
      ['reboot_date', 'string', '"2020-07-28 13:04:29"'],
    ]);
    const top = await complete('dev|', ninjaone);
    expect(top!.map((i) => [i.label, i.detail, i.example])).toEqual([['deviceId', 'integer', '192']]);
  });

  it('back-tick quotes keys that are not plain names (GitHub reactions +1/-1, Uptime Kuma ids), also when typed after a back-tick', async () => {
    const reactions = await complete('issue.reactions.|', github);
    expect(reactions!.filter((i) => i.label.startsWith('+') || i.label.startsWith('-')).map((i) => [i.label, i.insert])).toEqual([
      ['+1', '`+1`'],
      ['-1', '`-1`'],
    ]);
    expect((await complete('monitor.notificationIDList.|', uptimeKuma))!.map((i) => [i.label, i.insert, i.detail])).toEqual([['3', '`3`', 'boolean']]);
    const typed = await complete('issue.reactions.`+|', github);
    expect(typed!.map((i) => [i.label, i.insert, i.from])).toEqual([['+1', '`+1`', 16]]);
    expect(await evaluate('issue.reactions.`+1`', github)).toBe(0); // what was inserted evaluates
  });

  it('$functions as snippets with their signatures, and variables bound in the expression', async () => {
    const items = await complete('$subs|', alertmanager);
    expect(items!.map((i) => [i.label, i.insert, i.detail, i.snippet])).toEqual([
      ['$substring', '$substring(${str}, ${start})', '$substring(str, start, length?)', true],
      ['$substringBefore', '$substringBefore(${str}, ${chars})', '$substringBefore(str, chars)', true],
      ['$substringAfter', '$substringAfter(${str}, ${chars})', '$substringAfter(str, chars)', true],
    ]);
    const vars = await complete('($sev := commonLabels.severity; $s|', alertmanager);
    expect(vars![0]).toMatchObject({ label: '$sev', kind: 'variable' });
    expect(labels(vars)).toContain('$string');
  });

  it('offers nothing inside a string or a number, or where an operator must come next', async () => {
    expect(await complete('"alerts.|', alertmanager)).toBeNull();
    expect(await complete('commonLabels.alertname & " on |', alertmanager)).toBeNull();
    expect(await complete('12|', alertmanager)).toBeNull();
    expect(await complete('groupKey |', alertmanager)).toBeNull();
  });

  it('a workflow step completes input.body… from the envelope built around the sample', async () => {
    const envelope = { input: { source: 'alerts', body: alertmanager, headers: { 'content-type': 'application/json' }, verified: true } };
    expect(labels(await complete('input.|', envelope))).toEqual(['source', 'body', 'headers', 'verified']);
    expect(labels(await complete('input.body.commonLabels.|', envelope))).toEqual(['alertname', 'instance', 'job', 'severity']);
    expect((await complete('input.headers.|', envelope))!.map((i) => i.insert)).toEqual(['`content-type`']);
  });

  it('hover: a path shows its type and value in the sample; a function its signature', async () => {
    expect(await hoverAt('alerts[0].labels.severity', 20, alertmanager, evaluate)).toEqual({
      from: 17, to: 25, title: 'alerts[0].labels.severity', detail: 'string · "critical"', missing: false,
    });
    expect(await hoverAt('commonLabels.nope', 15, alertmanager, evaluate)).toMatchObject({ missing: true });
    expect(await hoverAt('$uppercase(status)', 3, alertmanager, evaluate)).toEqual({ from: 0, to: 10, title: '$uppercase(str)', detail: 'uppercase' });
  });
});

describe('diagnostics with ranges and messages', () => {
  const render = (src: string, input: unknown) => diagnose(src, input).map((d) => ({ from: d.from, to: d.to, severity: d.severity, text: src.slice(d.from, d.to), message: t(d.key, d.params) }));

  it('a path the sample does not have is a warning on that name, with the closest key', () => {
    expect(render('commonLabels.severty', alertmanager)).toEqual([
      { from: 13, to: 20, severity: 'warning', text: 'severty', message: '"severty" is not in the sample under commonLabels: did you mean "severity"?' },
    ]);
    expect(render('data.message.parms.reboot_days', ninjaone)).toEqual([
      { from: 13, to: 18, severity: 'warning', text: 'parms', message: '"parms" is not in the sample under data.message: did you mean "params"?' },
    ]);
    expect(render('ticketTitle', ninjaone)[0]!.message).toBe(
      '"ticketTitle" is not in the sample under $ (it has: id, activityTime, deviceId, seriesUid, activityType, statusCode).',
    );
  });

  it('checks paths inside predicates against the items, and back-ticked names by their own range', () => {
    expect(render('alerts[statsu = "firing"].labels.alertname', alertmanager).map((d) => [d.text, d.from, d.to])).toEqual([['statsu', 7, 13]]);
    expect(render('alerts[status = "firing"].labels.nope', alertmanager).map((d) => [d.text, d.severity])).toEqual([['nope', 'warning']]);
    expect(render('issue.reactions.`+2`', github).map((d) => d.text)).toEqual(['`+2`']);
    expect(render('issue.reactions.`+1` + issue.reactions.`-1`', github)).toEqual([]);
  });

  it('says nothing about a valid mapping of the sample, or when there is no sample', () => {
    expect(render('commonLabels.alertname & " on " & commonLabels.instance', alertmanager)).toEqual([]);
    expect(render('$count(alerts[status = "firing"]) > 0 ? "P1" : "P3"', alertmanager)).toEqual([]);
    expect(render('$map(alerts, function($a) { $a.nothingHere })', alertmanager)).toEqual([]); // lambda parameters are not the sample
    expect(render('anything.at.all', undefined)).toEqual([]);
  });

  it('syntax errors from jsonata\'s parser, on the token that is wrong (its position is where the token ends)', () => {
    expect(render('title & (', alertmanager)).toEqual([{ from: 8, to: 9, severity: 'error', text: '(', message: 'Expected ) before the end of the expression.' }]);
    expect(render('commonLabels.alertname }', alertmanager)).toEqual([{ from: 23, to: 24, severity: 'error', text: '}', message: 'Syntax error: } cannot go here.' }]);
    expect(render('alerts[0].', alertmanager)).toEqual([{ from: 9, to: 10, severity: 'error', text: '.', message: 'The expression ends too early.' }]);
    expect(render('$uppercase(status', alertmanager)[0]).toMatchObject({ severity: 'error', message: 'Expected ) before the end of the expression.' });
  });

  it('tokenizer errors (thrown, not recovered) cover the unterminated token to the end', () => {
    expect(render('status & "firing', alertmanager)).toEqual([{ from: 9, to: 16, severity: 'error', text: '"firing', message: 'This string has no closing quote.' }]);
    expect(render('issue.reactions.`+1', github)).toEqual([{ from: 16, to: 19, severity: 'error', text: '`+1', message: 'This quoted name has no closing back-tick (`).' }]);
    expect(render('status /* note', alertmanager)[0]).toMatchObject({ from: 7, to: 14, message: 'This comment has no closing */.' });
  });

  it('parses once: an error-free expression gives its AST, a broken one none', () => {
    expect(parse('groupKey').ast).toMatchObject({ type: 'path' });
    expect(parse('groupKey &').ast).toBeNull();
    expect(parse('   ').diagnostics).toEqual([]);
  });
});

describe('type checks per field type agree with the worker', () => {
  const types: FieldType[] = ['string', 'int', 'number', 'boolean', 'enum', 'datetime', 'ref', 'list'];
  const values: unknown[] = [
    'abc', '', '  ', '42', '4.5', 42, 4.5, true, false, 'true', '0', 1, 0, 'high', 'HIGH', 'urgent',
    '2026-05-11T14:02:13.712Z', '2026-05-11', 1620722437, '1620722437', 'yesterday', ['a', 'b'], ['a', 1], [['a'], 'b'], [{ a: 1 }], [true], 'a,b', { a: 1 }, [],
  ];
  for (const type of types) {
    it(`${type}: ✓ exactly where the worker accepts the value`, () => {
      const field: TargetField = { name: 'f', type, required: true, description: '', ...(type === 'enum' ? { enumValues: ['low', 'medium', 'high'] } : {}), ...(type === 'ref' ? { refEntity: 'client' } : {}) };
      const schema = schemaFor([field]);
      for (const value of values) {
        const server = schema.safeParse({ f: value }).success;
        expect(checkValue(value, { ...field, enumValues: field.enumValues ?? null }) === null, `${type} ← ${JSON.stringify(value)}`).toBe(server);
      }
    });
  }

  it('says what was expected and what came, in words', () => {
    const say = (value: unknown, type: string, extra = {}) => {
      const p = checkValue(value, { name: 'f', type, required: true, ...extra });
      return p && t(p.key, { ...p.params, got: t(`editor.type.${p.params.got}`) });
    };
    expect(say('abc', 'int')).toBe('expected a whole number, got string "abc"');
    expect(say(4.5, 'int')).toBe('expected a whole number, got number 4.5');
    expect(say('urgent', 'enum', { enumValues: ['low', 'high'] })).toBe('expected one of low, high, got string "urgent"');
    expect(say(alertmanager.alerts, 'string')).toBe('expected text, got array [1]');
    expect(say(undefined, 'string')).toBe('gives no value on this input, and the field is required');
    expect(checkValue(undefined, { name: 'f', type: 'string', required: false })).toBeNull();
  });

  it('names JSON types the way the preview chip does', () => {
    expect([undefined, null, 'a', 1, 1.5, true, [], {}].map(valueType)).toEqual(['missing', 'null', 'string', 'integer', 'number', 'boolean', 'array', 'object']);
  });
});

describe('back-tick quoting and tokens', () => {
  it('quotes what is not a plain name, and refuses what cannot be quoted', () => {
    expect(['alertname', 'reboot_days', '_x', 'x1'].map(quoteName)).toEqual(['alertname', 'reboot_days', '_x', 'x1']);
    expect(['+1', 'content-type', 'first name', '3', 'and', 'null', '$x', 'a.b', 'héllo'].map(quoteName)).toEqual([
      '`+1`', '`content-type`', '`first name`', '`3`', '`and`', '`null`', '`$x`', '`a.b`', '`héllo`',
    ]);
    expect(quoteName('a`b')).toBeNull();
  });

  it('the sample tree builds the same paths, and they evaluate to the node', async () => {
    const reactions = childPath(childPath('issue', 'reactions')!, '+1')!;
    expect(reactions).toBe('issue.reactions.`+1`');
    expect(await evaluate(reactions, github)).toBe(0);
    const first = childPath(childPath(childPath('', 'alerts')!, 0)!, 'labels')!;
    expect(first).toBe('alerts[0].labels');
    expect(await evaluate(`${first}.alertname`, alertmanager)).toBe('InstanceDown');
    expect(childPath('input', 'body')).toBe('input.body');
  });

  it('tokenizes for highlighting without throwing on half-typed text', () => {
    const tokens = tokenize('$uppercase(alerts[0].`a b`) & "x" /* c */ and /re/i');
    expect(tokens.map((x) => [x.type, x.text])).toEqual([
      ['variable', '$uppercase'], ['open', '('], ['name', 'alerts'], ['open', '['], ['number', '0'], ['close', ']'], ['operator', '.'],
      ['quoted', '`a b`'], ['close', ')'], ['operator', '&'], ['string', '"x"'], ['comment', '/* c */'], ['keyword', 'and'], ['regex', '/re/i'],
    ]);
    expect(tokenize('a / b').map((x) => x.type)).toEqual(['name', 'operator', 'name']);
    expect(tokenize('"open').at(-1)).toMatchObject({ type: 'string', unterminated: true });
  });
});
