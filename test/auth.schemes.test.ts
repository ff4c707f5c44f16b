// Auth schemes and the authenticate() gate, plus the client-IP rule they rely on.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { authConfigSchema, type AuthConfig } from '../core/webhookConfig.ts';
import { authenticate, authenticateDecoy, hashToken } from '../receiver/auth/index.ts';
import { authSchemes } from '../receiver/auth/schemes/index.ts';
import type { ResolvedSecret, UnverifiedRequest } from '../receiver/auth/types.ts';
import { resolveClientIp } from '../receiver/clientIp.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);

function sample(name: string): string {
  return JSON.stringify(JSON.parse(readFileSync(new URL(`./fixtures/samples/${name}`, import.meta.url), 'utf8')));
}

function makeRequest(overrides: {
  body?: string;
  headers?: Record<string, string | undefined>;
  query?: Record<string, string>;
  sourceIp?: string;
} = {}): UnverifiedRequest {
  return {
    method: 'POST',
    path: '/hooks/acme/test',
    query: overrides.query ?? {},
    headers: overrides.headers ?? {},
    rawBody: Buffer.from(overrides.body ?? '{}', 'utf8'),
    sourceIp: overrides.sourceIp ?? '203.0.113.5',
    url: 'https://intake.example.com/hooks/acme/test',
    receivedAt: NOW,
  };
}

const plaintext = (value: string): ResolvedSecret => ({ kind: 'plaintext', value });
// Independent of hashToken: the stored form is plain SHA-256 of the token.
const stored = (token: string): ResolvedSecret => ({ kind: 'sha256', digest: createHash('sha256').update(token).digest() });

describe('hashToken', () => {
  it('is SHA-256 of the utf8 token', () => {
    expect(hashToken('abc').toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('hmac_sha256 scheme', () => {
  const body = sample('stripe-invoice.paid.json');
  const config: AuthConfig = { auth_type: 'hmac_sha256', signature_format: 'stripe', tolerance_seconds: 300 };
  const stripeHeader = (key: string, t = NOW_S) =>
    `t=${t},v1=${createHmac('sha256', key).update(`${t}.${body}`).digest('hex')}`;
  const oldSecret = 'whsec_old_1111111111111111';
  const newSecret = 'whsec_new_2222222222222222';

  it('accepts requests signed with either secret of a rotated pair', () => {
    for (const key of [oldSecret, newSecret]) {
      const req = makeRequest({ body, headers: { 'stripe-signature': stripeHeader(key) } });
      const result = authenticate(req, config, [plaintext(oldSecret), plaintext(newSecret)], NOW);
      expect(result.ok).toBe(true);
      if (result.ok) expect(result.request).toBe(req);
    }
  });

  it('rejects a signature from a secret that is not live, with the first rejection', () => {
    const req = makeRequest({ body, headers: { 'stripe-signature': stripeHeader('whsec_someone_else') } });
    expect(authenticate(req, config, [plaintext(oldSecret), plaintext(newSecret)], NOW)).toEqual({
      ok: false,
      status: 'rejected_signature',
      reason: 'stripe-signature: no v1 signature matches',
    });
  });

  it('uses signature_header when configured, else the format default', () => {
    const gh: AuthConfig = { auth_type: 'hmac_sha256', signature_format: 'hex', signature_header: 'x-pagerduty-signature', tolerance_seconds: 300 };
    const pd = sample('pagerduty-incident.triggered.json');
    const sig = `v1=${createHmac('sha256', 'pd-secret').update(pd).digest('hex')}`;
    expect(authenticate(makeRequest({ body: pd, headers: { 'x-pagerduty-signature': sig } }), gh, [plaintext('pd-secret')], NOW).ok).toBe(true);
    expect(authenticate(makeRequest({ body: pd, headers: { 'x-signature': sig } }), gh, [plaintext('pd-secret')], NOW)).toMatchObject({ status: 'rejected_no_auth' });
  });

  it('passes timestamp_header and tolerance through (Grafana)', () => {
    const grafana = sample('grafana-alerting.firing.json');
    const cfg: AuthConfig = {
      auth_type: 'hmac_sha256', signature_format: 'hex', signature_header: 'x-grafana-alerting-signature',
      timestamp_header: 'x-grafana-alerting-timestamp', tolerance_seconds: 60,
    };
    const signed = (ts: number) => makeRequest({
      body: grafana,
      headers: {
        'x-grafana-alerting-signature': createHmac('sha256', 'g-secret').update(`${ts}:${grafana}`).digest('hex'),
        'x-grafana-alerting-timestamp': String(ts),
      },
    });
    expect(authenticate(signed(NOW_S - 30), cfg, [plaintext('g-secret')], NOW).ok).toBe(true);
    expect(authenticate(signed(NOW_S - 61), cfg, [plaintext('g-secret')], NOW)).toMatchObject({ status: 'rejected_signature', reason: expect.stringMatching(/60 s tolerance/) });
  });

  it('reports a missing header as rejected_no_auth and no plaintext secret as a rejection', () => {
    expect(authenticate(makeRequest({ body }), config, [plaintext(newSecret)], NOW)).toMatchObject({ ok: false, status: 'rejected_no_auth' });
    const req = makeRequest({ body, headers: { 'stripe-signature': stripeHeader(newSecret) } });
    expect(authenticate(req, config, [stored(newSecret)], NOW)).toMatchObject({ ok: false, status: 'rejected_signature' });
  });
});

describe('bearer scheme', () => {
  const token = 'tok_8c1f2e9d7b6a5c4d3e2f1a0b';
  const auth: AuthConfig = { auth_type: 'bearer', header: 'authorization' };

  it('accepts "Bearer <token>" and a lower-case scheme', () => {
    for (const value of [`Bearer ${token}`, `bearer ${token}`, `BEARER   ${token}`]) {
      expect(authenticate(makeRequest({ headers: { authorization: value } }), auth, [stored(token)], NOW).ok).toBe(true);
    }
  });

  it('rejects a wrong token, another scheme, and a bare token on authorization', () => {
    for (const value of ['Bearer tok_wrong', `Basic ${token}`, token, 'Bearer']) {
      expect(authenticate(makeRequest({ headers: { authorization: value } }), auth, [stored(token)], NOW)).toMatchObject({ ok: false, status: 'rejected_bearer' });
    }
  });

  it('reports a missing header as rejected_no_auth', () => {
    expect(authenticate(makeRequest(), auth, [stored(token)], NOW)).toMatchObject({ ok: false, status: 'rejected_no_auth' });
  });

  it('reads the bare token from a custom header (GitLab x-gitlab-token)', () => {
    const gitlab: AuthConfig = { auth_type: 'bearer', header: 'x-gitlab-token' };
    const body = sample('gitlab-pipeline.json');
    expect(authenticate(makeRequest({ body, headers: { 'x-gitlab-token': token } }), gitlab, [stored(token)], NOW).ok).toBe(true);
    expect(authenticate(makeRequest({ body, headers: { 'x-gitlab-token': `Bearer ${token}` } }), gitlab, [stored(token)], NOW)).toMatchObject({ status: 'rejected_bearer' });
    expect(authenticate(makeRequest({ body, headers: { authorization: `Bearer ${token}` } }), gitlab, [stored(token)], NOW)).toMatchObject({ status: 'rejected_no_auth' });
  });

  it('accepts both tokens of a rotated pair and ignores plaintext secrets', () => {
    const secrets = [stored('tok_old_aaaaaaaaaaaaaaaa'), stored('tok_new_bbbbbbbbbbbbbbbb')];
    for (const t of ['tok_old_aaaaaaaaaaaaaaaa', 'tok_new_bbbbbbbbbbbbbbbb']) {
      expect(authenticate(makeRequest({ headers: { authorization: `Bearer ${t}` } }), auth, secrets, NOW).ok).toBe(true);
    }
    expect(authenticate(makeRequest({ headers: { authorization: `Bearer ${token}` } }), auth, [plaintext(token)], NOW).ok).toBe(false);
  });

  it('never puts the token in the reason', () => {
    const result = authenticate(makeRequest({ headers: { authorization: 'Bearer presented-secret-value' } }), auth, [stored(token)], NOW);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).not.toContain('presented-secret-value');
  });
});

describe('path_token scheme', () => {
  const token = 'pt_0a1b2c3d4e5f6a7b8c9d';
  const config: AuthConfig = { auth_type: 'path_token', query_param: 'token' };

  it('accepts the right token', () => {
    expect(authenticate(makeRequest({ query: { token } }), config, [stored(token)], NOW).ok).toBe(true);
  });

  it('rejects a wrong token as rejected_bearer and a missing one as rejected_no_auth', () => {
    expect(authenticate(makeRequest({ query: { token: 'pt_wrong' } }), config, [stored(token)], NOW)).toMatchObject({ ok: false, status: 'rejected_bearer' });
    expect(authenticate(makeRequest({ query: {} }), config, [stored(token)], NOW)).toMatchObject({ ok: false, status: 'rejected_no_auth' });
    expect(authenticate(makeRequest({ query: { key: token } }), config, [stored(token)], NOW)).toMatchObject({ ok: false, status: 'rejected_no_auth' });
  });

  it('uses the configured parameter name and accepts a rotated pair', () => {
    const custom: AuthConfig = { auth_type: 'path_token', query_param: 'k' };
    const secrets = [stored('pt_old_xxxxxxxxxxxx'), stored(token)];
    expect(authenticate(makeRequest({ query: { k: 'pt_old_xxxxxxxxxxxx' } }), custom, secrets, NOW).ok).toBe(true);
    expect(authenticate(makeRequest({ query: { k: token } }), custom, secrets, NOW).ok).toBe(true);
  });
});

describe('ip_allowlist scheme', () => {
  const config: AuthConfig = { auth_type: 'ip_allowlist', cidrs: ['203.0.113.0/24', '198.51.100.7', '2001:db8:1234::/48'] };
  const at = (sourceIp: string) => authenticate(makeRequest({ sourceIp }), config, [], NOW);

  it('accepts IPv4 addresses inside a CIDR or equal to a bare address', () => {
    expect(at('203.0.113.5').ok).toBe(true);
    expect(at('203.0.113.255').ok).toBe(true);
    expect(at('198.51.100.7').ok).toBe(true);
  });

  it('rejects IPv4 addresses outside', () => {
    expect(at('203.0.114.1')).toMatchObject({ ok: false, status: 'rejected_ip' });
    expect(at('198.51.100.8')).toMatchObject({ ok: false, status: 'rejected_ip' });
  });

  it('handles IPv6 CIDRs', () => {
    expect(at('2001:db8:1234:ffff::1').ok).toBe(true);
    expect(at('2001:db8:1235::1')).toMatchObject({ ok: false, status: 'rejected_ip' });
  });

  it('matches an IPv4-mapped IPv6 address against IPv4 CIDRs', () => {
    expect(at('::ffff:203.0.113.5').ok).toBe(true);
    expect(at('::FFFF:198.51.100.7').ok).toBe(true);
    expect(at('::ffff:192.0.2.1')).toMatchObject({ ok: false, status: 'rejected_ip' });
  });

  it('rejects garbage and empty source addresses without throwing', () => {
    for (const ip of ['', 'not-an-ip', '203.0.113.5:443', '999.1.1.1']) {
      expect(at(ip)).toMatchObject({ ok: false, status: 'rejected_ip' });
    }
  });

  it('refuses (does not throw) on a config with an invalid CIDR', () => {
    const bad = { auth_type: 'ip_allowlist', cidrs: ['203.0.113.0/33'] } as AuthConfig;
    expect(authenticate(makeRequest(), bad, [], NOW)).toMatchObject({ ok: false, status: 'rejected_ip' });
  });

  it('is reachable through authSchemes by auth_type', () => {
    expect(authSchemes.ip_allowlist.authType).toBe('ip_allowlist');
    expect(authSchemes.hmac_sha256.authType).toBe('hmac_sha256');
    expect(authSchemes.bearer.authType).toBe('bearer');
    expect(authSchemes.path_token.authType).toBe('path_token');
  });
});

describe('a refusal takes the same time, whatever the scheme or why', () => {
  // test/receiver.routing.test.ts counts the work of every kind of refusal through the receiver;
  // this times the one part that depends on the scheme, each case called in turn, many times,
  // over a body (256 KiB) large enough that its HMAC passes are what a refusal costs, and
  // compares a low percentile of each case's times loosely: on a shared machine other work
  // lands on any sample, and a median moved 2.5× with it; the fastest tenth is each case's own
  // cost.
  it('the fastest tenth of each case within 1.5× of the others', () => {
    const body = JSON.stringify({ pad: 'x'.repeat(256 * 1024) });
    const parse = (auth: Record<string, unknown>) => authConfigSchema.parse(auth);
    const request = (headers: Record<string, string> = {}) => makeRequest({ body, headers });
    const hex = parse({ auth_type: 'hmac_sha256' });
    const stripe = parse({ auth_type: 'hmac_sha256', signature_format: 'stripe' });
    const bearer = parse({ auth_type: 'bearer' });
    const ip = parse({ auth_type: 'ip_allowlist', cidrs: ['10.0.0.0/8'] });
    const cases: [string, UnverifiedRequest, (r: UnverifiedRequest) => unknown][] = [
      ['no webhook, no credentials', request(), (r) => authenticateDecoy(r, NOW)],
      ['no webhook, a Stripe signature', request({ 'stripe-signature': `t=${NOW_S},v1=00` }), (r) => authenticateDecoy(r, NOW)],
      ['hex, wrong signature', request({ 'x-signature': '00'.repeat(32) }), (r) => authenticate(r, hex, [plaintext('a-secret-of-sixteen')], NOW)],
      ['stripe, no Stripe-Signature', request(), (r) => authenticate(r, stripe, [plaintext('whsec_abc')], NOW)],
      ['stripe, stale', request({ 'stripe-signature': `t=${NOW_S - 3600},v1=00` }), (r) => authenticate(r, stripe, [plaintext('whsec_abc')], NOW)],
      ['bearer, wrong token', request({ authorization: 'Bearer nope' }), (r) => authenticate(r, bearer, [stored('right')], NOW)],
      ['ip allowlist', request(), (r) => authenticate(r, ip, [], NOW)],
    ];
    const times = new Map<string, number[]>(cases.map(([name]) => [name, []]));
    for (let round = 0; round < 205; round++) {
      for (const [name, req, refuse] of cases) {
        const started = performance.now();
        const result = refuse(req);
        const took = performance.now() - started;
        expect(result).toMatchObject({ ok: false });
        if (round >= 5) times.get(name)!.push(took);
      }
    }
    const tenth = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 10)]!;
    const fastest = Object.fromEntries([...times].map(([name, xs]) => [name, Number(tenth(xs).toFixed(3))]));
    // Before: the bearer, IP and stale-Stripe refusals and the decoy without X-Signature made no
    // HMAC pass (a few µs), the rest one.
    const values = Object.values(fastest);
    expect(Math.max(...values) / Math.min(...values), JSON.stringify(fastest)).toBeLessThan(1.5);
  });
});

describe('resolveClientIp', () => {
  const proxies = new BlockList();
  proxies.addSubnet('10.0.0.0', 8, 'ipv4');
  proxies.addSubnet('fd00::', 8, 'ipv6');

  it('without trusted proxies returns the peer and ignores X-Forwarded-For', () => {
    expect(resolveClientIp('198.51.100.20', '1.2.3.4', null)).toBe('198.51.100.20');
  });

  it('normalizes an IPv4-mapped peer address', () => {
    expect(resolveClientIp('::ffff:198.51.100.20', undefined, null)).toBe('198.51.100.20');
  });

  it('ignores a spoofed X-Forwarded-For from an untrusted peer', () => {
    expect(resolveClientIp('198.51.100.20', '203.0.113.5', proxies)).toBe('198.51.100.20');
  });

  it('takes the client from X-Forwarded-For when the peer is a trusted proxy', () => {
    expect(resolveClientIp('10.0.0.2', '203.0.113.5', proxies)).toBe('203.0.113.5');
    expect(resolveClientIp('::ffff:10.0.0.2', '::ffff:203.0.113.5', proxies)).toBe('203.0.113.5');
  });

  it('walks from the right past trusted hops and stops at the first untrusted one', () => {
    // the client forged "1.1.1.1"; the edge proxy appended the real client, an inner proxy its own
    expect(resolveClientIp('10.0.0.2', '1.1.1.1, 203.0.113.5, 10.1.1.1', proxies)).toBe('203.0.113.5');
    expect(resolveClientIp('fd00::2', '2001:db8::5, fd00::9', proxies)).toBe('2001:db8::5');
  });

  it('returns the leftmost hop when every hop is trusted', () => {
    expect(resolveClientIp('10.0.0.2', '10.0.0.9, 10.0.0.8', proxies)).toBe('10.0.0.9');
  });

  it('handles garbage entries and ports safely', () => {
    expect(resolveClientIp('10.0.0.2', 'garbage', proxies)).toBe('10.0.0.2');
    expect(resolveClientIp('10.0.0.2', '203.0.113.5, , 10.0.0.3', proxies)).toBe('10.0.0.3');
    expect(resolveClientIp('10.0.0.2', 'nonsense, 203.0.113.5', proxies)).toBe('203.0.113.5');
    expect(resolveClientIp('10.0.0.2', '203.0.113.5:4711', proxies)).toBe('203.0.113.5');
    expect(resolveClientIp('10.0.0.2', '[2001:db8::5]:443', proxies)).toBe('2001:db8::5');
    expect(resolveClientIp('10.0.0.2', '', proxies)).toBe('10.0.0.2');
    expect(resolveClientIp(undefined, '203.0.113.5', proxies)).toBe('');
  });
});
