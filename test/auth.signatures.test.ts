// Signature formats, checked against requests signed the way each sender's own code signs them.
// The signers below are written independently of receiver/auth/signatures (plain node:crypto),
// so a shared misunderstanding cannot make both sides agree; published test vectors pin the
// formats that have one (GitHub, Slack, Standard Webhooks).
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signatureFormats } from '../receiver/auth/signatures/index.ts';
import type { SignatureFormat, UnverifiedRequest, VerifyResult } from '../receiver/auth/types.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const TOLERANCE = 300;

/** A sample body as a sender puts it on the wire: compact JSON. */
function sample(name: string): string {
  return JSON.stringify(JSON.parse(readFileSync(new URL(`./fixtures/samples/${name}`, import.meta.url), 'utf8')));
}

function makeRequest(body: string | Buffer, headers: Record<string, string | undefined>): UnverifiedRequest {
  return {
    method: 'POST',
    path: '/hooks/acme/test',
    query: {},
    headers,
    rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
    sourceIp: '203.0.113.5',
    url: 'https://intake.example.com/hooks/acme/test',
    receivedAt: NOW,
  };
}

function check(
  format: SignatureFormat,
  request: UnverifiedRequest,
  secret: string,
  extra: { header?: string; timestampHeader?: string; now?: Date } = {},
): VerifyResult {
  return format.verify(request, secret, {
    header: extra.header ?? format.defaultHeader,
    timestampHeader: extra.timestampHeader,
    toleranceSeconds: TOLERANCE,
    now: extra.now ?? NOW,
  });
}

const hmacHex = (key: string | Buffer, content: string) => createHmac('sha256', key).update(content).digest('hex');
const hmacB64 = (key: string | Buffer, content: string) => createHmac('sha256', key).update(content).digest('base64');

function expectRejected(result: VerifyResult, status = 'rejected_signature', reason?: RegExp): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.status).toBe(status);
  if (reason) expect(result.reason).toMatch(reason);
}

describe('hex (PagerDuty, Sentry)', () => {
  const format = signatureFormats.hex;
  const body = sample('pagerduty-incident.triggered.json');
  const secret = 'pd-webhook-secret-0123456789';
  const header = 'x-pagerduty-signature';
  // PagerDuty: "v1=" + hex HMAC-SHA256(secret, body), comma-separated during rotation.
  const pd = (key: string, content = body) => `v1=${hmacHex(key, content)}`;

  it('accepts a PagerDuty v1= signature', () => {
    expect(check(format, makeRequest(body, { [header]: pd(secret) }), secret, { header })).toMatchObject({ ok: true });
  });

  it('accepts two comma-separated signatures when only the second matches (rotation)', () => {
    const value = `${pd('the-new-secret-not-yet-ours')},${pd(secret)}`;
    expect(check(format, makeRequest(body, { [header]: value }), secret, { header }).ok).toBe(true);
  });

  it('accepts bare hex (Sentry), sha256= prefix, and upper-case hex on the default header', () => {
    const sentry = sample('sentry-event_alert.triggered.json');
    const sig = hmacHex(secret, sentry);
    for (const value of [sig, `sha256=${sig}`, sig.toUpperCase()]) {
      expect(check(format, makeRequest(sentry, { 'x-signature': value }), secret).ok).toBe(true);
    }
  });

  it('rejects a wrong secret', () => {
    expectRejected(check(format, makeRequest(body, { [header]: pd('another-secret') }), secret, { header }), 'rejected_signature', /does not match/);
  });

  it('rejects a tampered body', () => {
    const tampered = body.replace('incident.triggered', 'incident.resolved');
    expectRejected(check(format, makeRequest(tampered, { [header]: pd(secret) }), secret, { header }));
  });

  it('rejects a body differing only by a trailing newline (signatures are over raw bytes)', () => {
    expectRejected(check(format, makeRequest(`${body}\n`, { [header]: pd(secret) }), secret, { header }));
  });

  it('reports a missing header as rejected_no_auth', () => {
    expectRejected(check(format, makeRequest(body, {}), secret, { header }), 'rejected_no_auth', /x-pagerduty-signature/);
  });

  it('rejects a non-hex value without throwing', () => {
    expectRejected(check(format, makeRequest(body, { [header]: 'v1=zz' }), secret, { header }), 'rejected_signature', /not hex/);
  });
});

describe('hex with a timestamp header (Grafana)', () => {
  const format = signatureFormats.hex;
  const body = sample('grafana-alerting.firing.json');
  const secret = 'grafana-hmac-secret-abcdef';
  const header = 'x-grafana-alerting-signature';
  const timestampHeader = 'x-grafana-alerting-timestamp';
  // Grafana: hex HMAC-SHA256 over `${timestamp}:${body}` when a timestamp header is configured.
  const signed = (ts: string, key = secret, content = body) =>
    makeRequest(content, { [header]: hmacHex(key, `${ts}:${content}`), [timestampHeader]: ts });

  it('accepts a fresh request', () => {
    expect(check(format, signed(String(NOW_S)), secret, { header, timestampHeader }).ok).toBe(true);
  });

  it('accepts a millisecond timestamp', () => {
    expect(check(format, signed(String(NOW.getTime())), secret, { header, timestampHeader }).ok).toBe(true);
  });

  it('rejects a wrong secret and a tampered body', () => {
    expectRejected(check(format, signed(String(NOW_S), 'wrong-secret'), secret, { header, timestampHeader }));
    const req = signed(String(NOW_S));
    const tampered = { ...req, rawBody: Buffer.from(body.replace('firing', 'resolved')) };
    expectRejected(check(format, tampered, secret, { header, timestampHeader }));
  });

  it('rejects a stale timestamp', () => {
    expectRejected(check(format, signed(String(NOW_S - 301)), secret, { header, timestampHeader }), 'rejected_signature', /outside the 300 s tolerance/);
  });

  it('rejects a timestamp too far in the future', () => {
    expectRejected(check(format, signed(String(NOW_S + 301)), secret, { header, timestampHeader }), 'rejected_signature', /outside the 300 s tolerance/);
  });

  it('rejects a missing timestamp header and a body-only signature', () => {
    const bodyOnly = makeRequest(body, { [header]: hmacHex(secret, body) });
    expectRejected(check(format, bodyOnly, secret, { header, timestampHeader }), 'rejected_signature', /timestamp header missing/);
    const withTs = makeRequest(body, { [header]: hmacHex(secret, body), [timestampHeader]: String(NOW_S) });
    expectRejected(check(format, withTs, secret, { header, timestampHeader }));
  });

  it('reports a missing signature header as rejected_no_auth', () => {
    expectRejected(check(format, makeRequest(body, { [timestampHeader]: String(NOW_S) }), secret, { header, timestampHeader }), 'rejected_no_auth');
  });
});

describe('base64 (Xero, QuickBooks)', () => {
  const format = signatureFormats.base64;
  const body = sample('xero-contact.update.json');
  const secret = 'xero-webhook-key-base64-Zm9vYmFy';
  const header = 'x-xero-signature';

  it('accepts a Xero signature', () => {
    expect(check(format, makeRequest(body, { [header]: hmacB64(secret, body) }), secret, { header }).ok).toBe(true);
  });

  it('accepts a QuickBooks intuit-signature over an array body', () => {
    const qbo = sample('quickbooks-account.created.cloudevents.json');
    const req = makeRequest(qbo, { 'intuit-signature': hmacB64(secret, qbo) });
    expect(check(format, req, secret, { header: 'intuit-signature' }).ok).toBe(true);
  });

  it('rejects a wrong secret, a tampered body and a trailing newline', () => {
    expectRejected(check(format, makeRequest(body, { [header]: hmacB64('wrong', body) }), secret, { header }));
    expectRejected(check(format, makeRequest(body.replace('UPDATE', 'CREATE'), { [header]: hmacB64(secret, body) }), secret, { header }));
    expectRejected(check(format, makeRequest(`${body}\n`, { [header]: hmacB64(secret, body) }), secret, { header }));
  });

  it('reports a missing header as rejected_no_auth and junk as not base64', () => {
    expectRejected(check(format, makeRequest(body, {}), secret, { header }), 'rejected_no_auth');
    expectRejected(check(format, makeRequest(body, { [header]: '%%%not-base64' }), secret, { header }), 'rejected_signature', /not base64/);
    expectRejected(check(format, makeRequest(body, { [header]: 'c2hvcnQ=' }), secret, { header }), 'rejected_signature', /does not match/);
  });
});

describe('github', () => {
  const format = signatureFormats.github;
  const body = sample('github-issues.opened.json');
  const secret = 'gh-webhook-secret-7f3a';
  // GitHub docs: "sha256=" + hex HMAC-SHA256(secret, payload).
  const gh = (key: string, content = body) => `sha256=${hmacHex(key, content)}`;

  it("matches GitHub's documented example", () => {
    const req = makeRequest('Hello, World!', {
      'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    });
    expect(check(format, req, "It's a Secret to Everybody").ok).toBe(true);
  });

  it('accepts a signed issues.opened delivery', () => {
    expect(check(format, makeRequest(body, { 'x-hub-signature-256': gh(secret) }), secret).ok).toBe(true);
  });

  it('rejects a wrong secret, a tampered body and trailing whitespace', () => {
    expectRejected(check(format, makeRequest(body, { 'x-hub-signature-256': gh('nope') }), secret));
    expectRejected(check(format, makeRequest(body.replace('"opened"', '"closed"'), { 'x-hub-signature-256': gh(secret) }), secret));
    expectRejected(check(format, makeRequest(`${body} `, { 'x-hub-signature-256': gh(secret) }), secret));
  });

  it('requires the sha256= prefix', () => {
    const bare = hmacHex(secret, body);
    expectRejected(check(format, makeRequest(body, { 'x-hub-signature-256': bare }), secret), 'rejected_signature', /^x-hub-signature-256: missing sha256= prefix$/);
  });

  it('reports a missing header as rejected_no_auth (the legacy sha1 header does not count)', () => {
    const req = makeRequest(body, { 'x-hub-signature': `sha1=${createHmac('sha1', secret).update(body).digest('hex')}` });
    expectRejected(check(format, req, secret), 'rejected_no_auth');
  });
});

describe('stripe', () => {
  const format = signatureFormats.stripe;
  const body = sample('stripe-invoice.paid.json');
  const secret = 'whsec_test_5f9c2a7e1b4d8c3f6a0e9b2d';
  // stripe-node generateTestHeaderString: `t=${timestamp},${scheme}=${signature}` where signature
  // = hex HMAC-SHA256 keyed with the whole secret string over `${timestamp}.${payload}`.
  const generateTestHeaderString = (timestamp: number, key = secret, payload = body, scheme = 'v1') =>
    `t=${timestamp},${scheme}=${hmacHex(key, `${timestamp}.${payload}`)}`;
  const req = (value: string, content = body) => makeRequest(content, { 'stripe-signature': value });

  it('accepts a header built like generateTestHeaderString', () => {
    expect(check(format, req(generateTestHeaderString(NOW_S)), secret).ok).toBe(true);
  });

  it('accepts when any of several v1 signatures matches, ignoring v0', () => {
    const good = hmacHex(secret, `${NOW_S}.${body}`);
    const value = `t=${NOW_S},v1=${hmacHex('whsec_old', `${NOW_S}.${body}`)},v1=${good},v0=${'0'.repeat(64)}`;
    expect(check(format, req(value), secret).ok).toBe(true);
  });

  it('does not accept a v0 signature alone', () => {
    expectRejected(check(format, req(generateTestHeaderString(NOW_S, secret, body, 'v0')), secret), 'rejected_signature', /no v1= signature/);
  });

  it('keys with the whole whsec_ string, not the part after the prefix', () => {
    const stripped = secret.slice('whsec_'.length);
    expectRejected(check(format, req(generateTestHeaderString(NOW_S, stripped)), secret));
  });

  it('rejects a wrong secret, a tampered body and a trailing newline', () => {
    expectRejected(check(format, req(generateTestHeaderString(NOW_S, 'whsec_wrong')), secret), 'rejected_signature', /no v1 signature matches/);
    expectRejected(check(format, req(generateTestHeaderString(NOW_S), body.replace('"amount_paid":1000', '"amount_paid":1')), secret));
    expectRejected(check(format, req(generateTestHeaderString(NOW_S), `${body}\n`), secret));
  });

  it('rejects a stale timestamp with a specific reason', () => {
    const t = NOW_S - 301;
    const result = check(format, req(generateTestHeaderString(t)), secret);
    expectRejected(result, 'rejected_signature', new RegExp(`^stripe-signature: timestamp ${t} is outside the 300 s tolerance$`));
  });

  it('rejects a timestamp beyond the tolerance in the future', () => {
    expectRejected(check(format, req(generateTestHeaderString(NOW_S + 301)), secret), 'rejected_signature', /outside the 300 s tolerance/);
  });

  it('reports a missing header as rejected_no_auth and never leaks the secret or expected signature', () => {
    expectRejected(check(format, makeRequest(body, {}), secret), 'rejected_no_auth');
    const expected = hmacHex(secret, `${NOW_S}.${body}`);
    for (const value of [`t=${NOW_S},v1=00`, `t=${NOW_S},v1=${'a'.repeat(64)}`, 'garbage', 't=,v1=', `v1=${expected}`]) {
      const result = check(format, req(value), secret);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.reason).not.toContain(secret);
        expect(result.reason).not.toContain(expected);
      }
    }
  });
});

describe('slack', () => {
  const format = signatureFormats.slack;
  const secret = 'slack-signing-secret-9a8b7c';
  const body = JSON.stringify({ token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', team_id: 'T061EG9R6', type: 'event_callback', event_id: 'Ev08MFMKH6', event: { type: 'app_mention', text: 'ticket please' } });
  // Slack: "v0=" + hex HMAC-SHA256(signing secret, `v0:${timestamp}:${body}`).
  const slack = (ts: number | string, key = secret, content = body) =>
    makeRequest(content, { 'x-slack-signature': `v0=${hmacHex(key, `v0:${ts}:${content}`)}`, 'x-slack-request-timestamp': String(ts) });

  it("matches Slack's documented example", () => {
    const docBody = 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const req = makeRequest(docBody, {
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      'x-slack-request-timestamp': '1531420618',
    });
    expect(check(format, req, '8f742231b10e8888abcd99yyyzzz85a5', { now: new Date(1531420618_000 + 60_000) }).ok).toBe(true);
  });

  it('accepts a fresh event', () => {
    expect(check(format, slack(NOW_S), secret).ok).toBe(true);
  });

  it('rejects a wrong secret, a tampered body and a trailing newline', () => {
    expectRejected(check(format, slack(NOW_S, 'wrong'), secret));
    expectRejected(check(format, { ...slack(NOW_S), rawBody: Buffer.from(body.replace('ticket', 'nothing')) }, secret));
    expectRejected(check(format, { ...slack(NOW_S), rawBody: Buffer.from(`${body}\n`) }, secret));
  });

  it('rejects stale and future timestamps', () => {
    expectRejected(check(format, slack(NOW_S - 301), secret), 'rejected_signature', /x-slack-request-timestamp: timestamp .* outside/);
    expectRejected(check(format, slack(NOW_S + 301), secret), 'rejected_signature', /outside the 300 s tolerance/);
  });

  it('rejects a missing signature (no_auth), a missing timestamp and a missing v0= prefix', () => {
    expectRejected(check(format, makeRequest(body, { 'x-slack-request-timestamp': String(NOW_S) }), secret), 'rejected_no_auth');
    expectRejected(check(format, makeRequest(body, { 'x-slack-signature': slack(NOW_S).headers['x-slack-signature'] ?? '' }), secret), 'rejected_signature', /timestamp header missing/);
    const bare = makeRequest(body, { 'x-slack-signature': hmacHex(secret, `v0:${NOW_S}:${body}`), 'x-slack-request-timestamp': String(NOW_S) });
    expectRejected(check(format, bare, secret), 'rejected_signature', /missing v0= prefix/);
  });
});

describe('standard-webhooks (svix, GitLab)', () => {
  const format = signatureFormats['standard-webhooks'];
  const body = sample('gitlab-pipeline.json');
  const keyBytes = Buffer.from('0123456789abcdef0123456789abcdef', 'utf8');
  const secret = `whsec_${keyBytes.toString('base64')}`;
  const id = 'msg_2a9Xc1Fz0qP7wL3Kb8Rt';
  // The spec: key = base64-decode(secret minus "whsec_"), content `${id}.${ts}.${body}`,
  // header "v1," + base64 HMAC-SHA256, several space-separated.
  const sign = (ts: number, key: Buffer = keyBytes, content = body, msgId = id) => `v1,${hmacB64(key, `${msgId}.${ts}.${content}`)}`;
  const req = (signature: string, ts: number | string = NOW_S, content = body) =>
    makeRequest(content, { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature });

  it('matches the published Standard Webhooks test vector', () => {
    const vector = makeRequest('{"test": 2432232314}', {
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
    expect(check(format, vector, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', { now: new Date(1614265330_000) }).ok).toBe(true);
  });

  it('accepts a signed GitLab pipeline event', () => {
    expect(check(format, req(sign(NOW_S)), secret).ok).toBe(true);
  });

  it('accepts two space-separated signatures where only the second matches (rotation)', () => {
    const old = sign(NOW_S, Buffer.from('an-older-key-that-was-rotated-out'));
    expect(check(format, req(`${old} ${sign(NOW_S)}`), secret).ok).toBe(true);
  });

  it('ignores non-v1 entries', () => {
    const b64 = sign(NOW_S).slice(3);
    expectRejected(check(format, req(`v1a,${b64} v2,${b64}`), secret), 'rejected_signature', /no v1 signature matches/);
  });

  it('accepts svix-* headers when the webhook-* ones are absent', () => {
    const svix = makeRequest(body, { 'svix-id': id, 'svix-timestamp': String(NOW_S), 'svix-signature': sign(NOW_S) });
    expect(check(format, svix, secret).ok).toBe(true);
  });

  it('decodes a secret without the whsec_ prefix as base64', () => {
    expect(check(format, req(sign(NOW_S)), keyBytes.toString('base64')).ok).toBe(true);
  });

  it('rejects a wrong secret, a tampered body, a different id and a trailing newline', () => {
    expectRejected(check(format, req(sign(NOW_S, Buffer.from('wrong-key-wrong-key'))), secret));
    expectRejected(check(format, req(sign(NOW_S), NOW_S, body.replace('"failed"', '"success"')), secret));
    expectRejected(check(format, req(sign(NOW_S, keyBytes, body, 'msg_other')), secret));
    expectRejected(check(format, req(sign(NOW_S), NOW_S, `${body}\n`), secret));
  });

  it('rejects stale and future timestamps', () => {
    expectRejected(check(format, req(sign(NOW_S - 301), NOW_S - 301), secret), 'rejected_signature', /webhook-timestamp: timestamp .* outside the 300 s tolerance/);
    expectRejected(check(format, req(sign(NOW_S + 301), NOW_S + 301), secret), 'rejected_signature', /outside the 300 s tolerance/);
  });

  it('reports a missing signature as rejected_no_auth and a missing id as a signature failure', () => {
    expectRejected(check(format, makeRequest(body, { 'webhook-id': id, 'webhook-timestamp': String(NOW_S) }), secret), 'rejected_no_auth');
    expectRejected(check(format, makeRequest(body, { 'webhook-timestamp': String(NOW_S), 'webhook-signature': sign(NOW_S) }), secret), 'rejected_signature', /webhook-id/);
  });
});

describe('every format survives malformed input', () => {
  const junk = ['', ' ', ',', '=', 'v1=', 'v1,', 't=abc,v1=xyz', 'sha256=', 'v0=', '\u0000\uffff', 'v1,!!!', 'a'.repeat(10_000), 'v1=' + 'f'.repeat(63)];
  for (const [name, format] of Object.entries(signatureFormats)) {
    it(`${name} rejects junk without throwing`, () => {
      for (const value of junk) {
        const req = makeRequest('{}', {
          [format.defaultHeader]: value,
          'webhook-id': value,
          'webhook-timestamp': value,
          'x-slack-request-timestamp': value,
          'x-ts': value,
        });
        for (const secret of ['s', 'whsec_', 'whsec_!!', 'whsec_c2VjcmV0']) {
          const result = check(format, req, secret, name === 'hex' ? { timestampHeader: 'x-ts' } : {});
          expect(result.ok).toBe(false);
        }
      }
    });
  }
});
