// Logic of the web UI's own that needs no browser: the curl builder's signatures (checked by the
// receiver's real verifiers), the pseudo-locale, relative times, outcome summaries, which form
// field a server error belongs to, the dialog's live checks, and that every t('…') key the UI
// uses is in the English catalog.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashToken } from '../core/crypto.ts';
import { PROJECT_ROOT } from '../core/env.ts';
import { authConfigSchema, parseCidr, RESERVED_SLUGS as SERVER_RESERVED } from '../core/webhookConfig.ts';
import { authSchemes } from '../receiver/auth/schemes/index.ts';
import type { ResolvedSecret, UnverifiedRequest } from '../receiver/auth/types.ts';
import en from '../web/src/locales/en.json' with { type: 'json' };
import { curlCommand, shellQuote, signRequest, type AuthSettings, type SignatureFormat } from '../web/src/lib/curl.ts';
import { formFieldOf, messageWithoutPath } from '../web/src/lib/errorField.ts';
import { summarizeOutcome } from '../web/src/lib/outcome.ts';
import { looksUntranslated, pseudoCatalog, pseudoString, type Catalog } from '../web/src/lib/pseudo.ts';
import { formatRelative } from '../web/src/lib/time.ts';
import { badCidrLines, isCidr, RESERVED_SLUGS, slugFromName, slugProblem } from '../web/src/lib/validate.ts';

function requestFor(url: string, headers: [string, string][], body: string, now: Date): UnverifiedRequest {
  const u = new URL(url);
  return {
    method: 'POST',
    path: u.pathname,
    query: Object.fromEntries(u.searchParams),
    headers: Object.fromEntries(headers.map(([k, v]) => [k.toLowerCase(), v])),
    rawBody: Buffer.from(body),
    sourceIp: '127.0.0.1',
    url,
    receivedAt: now,
  };
}

describe('the curl builder', () => {
  const url = 'http://localhost:3000/api/inbound/acme/alerts';
  const body = JSON.stringify({ message: "it's 100% \"quoted\"", n: 1 });
  const now = new Date();
  const ts = Math.floor(now.getTime() / 1000);
  const formats: SignatureFormat[] = ['hex', 'base64', 'github', 'stripe', 'slack', 'standard-webhooks'];

  for (const format of formats) {
    it(`signs ${format} requests the receiver accepts, and a changed body it refuses`, async () => {
      const secret = format === 'standard-webhooks' ? `whsec_${randomBytes(24).toString('base64')}` : randomBytes(24).toString('base64url');
      const auth = { auth_type: 'hmac_sha256', signature_format: format } as AuthSettings;
      const config = authConfigSchema.parse(auth);
      const secrets: ResolvedSecret[] = [{ kind: 'plaintext', value: secret }];
      const signed = await signRequest(url, secret, auth, body, ts);
      const scheme = authSchemes.hmac_sha256 as any;
      expect(scheme.verify(requestFor(signed.url, signed.headers, body, now), config, secrets, now)).toMatchObject({ ok: true });
      expect(scheme.verify(requestFor(signed.url, signed.headers, body + ' ', now), config, secrets, now).ok).toBe(false);
    });
  }

  it('signs hex with a timestamp header and a custom signature header', async () => {
    const secret = 'a-secret-of-at-least-16';
    const auth: AuthSettings = { auth_type: 'hmac_sha256', signature_format: 'hex', signature_header: 'x-grafana-alerting-signature', timestamp_header: 'x-grafana-alerting-signature-timestamp' };
    const signed = await signRequest(url, secret, auth, body, ts);
    expect(signed.headers.map(([k]) => k)).toEqual(['content-type', 'x-grafana-alerting-signature-timestamp', 'x-grafana-alerting-signature']);
    const ok = (authSchemes.hmac_sha256 as any).verify(requestFor(signed.url, signed.headers, body, now), authConfigSchema.parse(auth), [{ kind: 'plaintext', value: secret }], now);
    expect(ok).toMatchObject({ ok: true });
  });

  it('puts bearer tokens in their header and path tokens in the URL', async () => {
    const token = randomBytes(24).toString('base64url');
    const secrets: ResolvedSecret[] = [{ kind: 'sha256', digest: hashToken(token) as Buffer }];
    for (const auth of [{ auth_type: 'bearer' }, { auth_type: 'bearer', header: 'x-gitlab-token' }, { auth_type: 'path_token' }] as AuthSettings[]) {
      const signed = await signRequest(url, token, auth, body, ts);
      const scheme = (authSchemes as any)[auth.auth_type];
      expect(scheme.verify(requestFor(signed.url, signed.headers, body, now), authConfigSchema.parse(auth), secrets, now), JSON.stringify(auth)).toMatchObject({ ok: true });
    }
    expect((await signRequest(url, token, { auth_type: 'path_token' }, body, ts)).url).toBe(`${url}?token=${token}`);
  });

  it('quotes for the shell so any body survives', () => {
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
    const command = curlCommand({ url, headers: [['x-signature', 'abc']] }, `{"a":"it's"}`);
    expect(command).toBe(`curl -sS -X POST '${url}' \\\n  -H 'x-signature: abc' \\\n  --data-binary '{"a":"it'\\''s"}'`);
  });
});

describe('the pseudo-locale', () => {
  it('accents every letter and keeps interpolations, nesting and markup', () => {
    expect(pseudoString('Settings')).toBe('[Šéţţîñĝš ···]');
    expect(pseudoString('Replay {{count}} deliveries')).toMatch(/^\[Ŕéþļáý \{\{count\}\} ðéļîṽéŕîéš ·+\]$/);
    expect(pseudoString('see $t(other.key) and <1>link</1>')).toContain('$t(other.key)');
    expect(pseudoString('see $t(other.key) and <1>link</1>')).toContain('<1>ļîñķ</1>');
    expect(pseudoString('')).toBe('');
  });

  it('covers the whole English catalog, and none of its strings looks untranslated', () => {
    const pseudo = pseudoCatalog(en as Catalog);
    const flat = (c: Catalog, prefix = ''): [string, string][] =>
      Object.entries(c).flatMap(([k, v]) => (typeof v === 'string' ? [[prefix + k, v] as [string, string]] : flat(v, `${prefix}${k}.`)));
    const english = flat(en as Catalog);
    const translated = new Map(flat(pseudo));
    expect(translated.size).toBe(english.length);
    for (const [key] of english) {
      const value = translated.get(key)!.replace(/\{\{[^}]*\}\}|\$t\([^)]*\)/g, '');
      expect(looksUntranslated(value), `${key}: ${value}`).toBe(false);
    }
    expect(looksUntranslated('Untranslated')).toBe(true);
    expect(looksUntranslated('[Ŝéţţîñĝš]')).toBe(false);
  });

  it('has every key the UI asks for', () => {
    const has = (key: string) => {
      let node: unknown = en;
      for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
      return typeof node === 'string';
    };
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(path.join(dir, entry.name));
        else if (/\.tsx?$/.test(entry.name)) files.push(path.join(dir, entry.name));
      }
    };
    walk(path.join(PROJECT_ROOT, 'web', 'src'));
    const missing: string[] = [];
    let seen = 0;
    for (const file of files) {
      for (const match of fs.readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([^']+)'/g)) {
        seen++;
        const key = match[1]!;
        if (!has(key) && !has(`${key}_one`)) missing.push(`${path.basename(file)}: ${key}`);
      }
    }
    expect(seen).toBeGreaterThan(100);
    expect(missing).toEqual([]);
  });
});

describe('relative times', () => {
  const now = new Date('2026-05-11T14:00:00Z');
  it.each([
    ['2026-05-11T13:59:55Z', 'now'],
    ['2026-05-11T13:59:30Z', '30 seconds ago'],
    ['2026-05-11T13:57:00Z', '3 minutes ago'],
    ['2026-05-11T11:00:00Z', '3 hours ago'],
    ['2026-05-10T12:00:00Z', 'yesterday'],
    ['2026-04-20T12:00:00Z', '3 weeks ago'],
    ['2026-05-11T14:05:00Z', 'in 5 minutes'],
  ])('%s is "%s"', (value, expected) => {
    expect(formatRelative(value, now, 'en-US')).toBe(expected);
  });
});

describe('outcome summaries', () => {
  it.each([
    [{ action: 'createTicket', ticket_id: 'x', ticket_number: 'T-000123', created: true }, 'dispatched', { key: 'outcome.ticketNumber', values: { number: 'T-000123' } }],
    [{ action: 'upsertClient', client_id: 'x', created: true }, 'dispatched', { key: 'outcome.created', values: { entity: 'client' } }],
    [{ action: 'upsertClient', client_id: 'x', created: false }, 'dispatched', { key: 'outcome.matched', values: { entity: 'client' } }],
    [{ action: 'createContact', contact_name_id: 'c', client_id: 'x', created: true }, 'dispatched', { key: 'outcome.created', values: { entity: 'contact' } }],
    [{ workflow_id: 'w', workflow_run_id: 'r' }, 'dispatched', { key: 'outcome.workflowRun', values: {} }],
    [{ error: 'title: required' }, 'failed', { key: 'outcome.error', values: { error: 'title: required' } }],
    [null, 'failed', { key: 'outcome.failed', values: {} }],
    [null, 'duplicate', { key: 'outcome.duplicate', values: {} }],
    [null, 'pending', { key: 'outcome.pending', values: {} }],
    [{ action: 'tagEntity', something: 1 }, 'dispatched', { key: 'outcome.done', values: {} }],
  ])('%j (%s)', (outcome, status, expected) => {
    expect(summarizeOutcome(outcome, status)).toEqual(expected);
  });
  it('is nothing for a dispatched delivery without an outcome', () => {
    expect(summarizeOutcome(null, 'dispatched')).toBeNull();
  });
});

describe('server errors land on the field they name', () => {
  it.each([
    [{ code: 'VALIDATION', message: 'slug: must be lowercase letters' }, 'slug'],
    [{ code: 'CONFLICT', message: 'this tenant already has a webhook with that slug' }, 'slug'],
    [{ code: 'VALIDATION', message: 'auth.cidrs.1: must be an IPv4 or IPv6 address' }, 'cidrs'],
    [{ code: 'BAD_EXPRESSION', message: 'handler.field_mapping.title: Expected ...', field: 'handler.field_mapping.title' }, 'mapping-title'],
    [{ code: 'VALIDATION', message: 'handler.field_mapping: createTicket needs a mapping for "title"' }, 'action'],
    [{ code: 'VALIDATION', message: 'rate_limit_per_minute: too big' }, 'rateLimit'],
    [{ code: 'BAD_EXPRESSION', message: 'idempotency.value: bad', field: 'idempotency.value' }, 'idempotencyValue'],
    [{ code: 'FORBIDDEN', message: 'permission denied: inbound_webhook:create' }, null],
  ])('%j → %s', (error, field) => {
    expect(formFieldOf(error)).toBe(field);
  });
  it('drops the path the form already shows', () => {
    expect(messageWithoutPath('auth.cidrs.1: must be an IPv4 or IPv6 address')).toBe('must be an IPv4 or IPv6 address');
  });
});

describe("the dialog's live checks agree with the server's rules", () => {
  it('slugs', () => {
    expect(RESERVED_SLUGS).toEqual([...SERVER_RESERVED]);
    expect(slugProblem('alerts')).toBeNull();
    expect(slugProblem('')).toBe('empty');
    expect(slugProblem('-x')).toBe('pattern');
    expect(slugProblem('Alerts')).toBe('pattern');
    expect(slugProblem('xero')).toBe('reserved');
    expect(slugProblem('a'.repeat(64))).toBe('tooLong');
    expect(slugFromName('ConnectWise Alerts — Prod!')).toBe('connectwise-alerts-prod');
    expect(slugFromName('Zürich RMM')).toBe('zurich-rmm');
  });
  it('CIDRs, line by line', () => {
    for (const value of ['203.0.113.0/24', '10.0.0.1', '2001:db8::/32', '::1', '0.0.0.0/0', '203.0.113.7/32', '1.2.3.4/33', '1.2.3', '01.2.3.4', '2001:db8::/129', 'fe80::1/abc', 'example.com', '1.2.3.4/24/1']) {
      expect(isCidr(value), value).toBe(parseCidr(value) !== null);
    }
    expect(badCidrLines('203.0.113.0/24\n\nnot-an-ip\n2001:db8::/32\n999.1.1.1')).toEqual([3, 5]);
  });
});
