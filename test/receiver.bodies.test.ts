// What the receiver does with the bytes of a verified request: size limit, content types,
// malformed and unstorable JSON, and which headers end up in the delivery log.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedWebhook } from '../core/webhooks.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant, makeWebhook, startTestServer, type TestServer } from './support/server.ts';

const sample = (name: string): string =>
  JSON.stringify(JSON.parse(readFileSync(new URL(`./fixtures/samples/${name}`, import.meta.url), 'utf8')));
const handler = { handler_type: 'direct_action', action: 'createTicket', field_mapping: { title: '"x"' } } as const;

let db: TestDatabase;
let server: TestServer;
let small: TestServer;
let hex: CreatedWebhook;
let github: CreatedWebhook;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { worker: false });
  small = await startTestServer(db.url, { worker: false, env: { INTAKE_BODY_LIMIT_BYTES: '2048' } });
  await makeTenant(db.pool, 'acme');
  hex = await makeWebhook(db.pool, 'acme', { name: 'Hex', slug: 'hex', auth: { auth_type: 'hmac_sha256' }, handler });
  github = await makeWebhook(db.pool, 'acme', {
    name: 'GitHub', slug: 'github', auth: { auth_type: 'hmac_sha256', signature_format: 'github' }, handler,
  });
});
afterAll(async () => {
  await small?.stop();
  await server?.stop();
  await db?.drop();
});

/** POSTs `body` signed for the `hex` webhook (x-signature: hex HMAC over the exact bytes). */
function signed(body: string | Buffer, headers: Record<string, string> = {}, base = server.url) {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return fetch(`${base}/api/inbound/acme/hex`, {
    method: 'POST',
    // a Uint8Array body makes fetch send no Content-Type of its own
    headers: { 'x-signature': createHmac('sha256', hex.secret!).update(bytes).digest('hex'), ...headers },
    body: new Uint8Array(bytes),
  });
}

async function delivery(id: string) {
  const { rows } = await db.pool.query(`select b.* from intake.inbound_webhook_deliveries d cross join lateral intake.delivery_with_body(d) b where d.delivery_id = $1`, [id]);
  expect(rows).toHaveLength(1);
  return rows[0];
}

async function counts(webhookId: string) {
  const { rows } = await db.pool.query(
    `select (select count(*)::int from intake.inbound_webhook_deliveries where inbound_webhook_id = $1) as deliveries,
            (select count(*)::int from intake.inbound_webhook_auth_rejections where inbound_webhook_id = $1) as rejections`,
    [webhookId],
  );
  return rows[0] as { deliveries: number; rejections: number };
}

describe('content encoding', () => {
  /** POSTs gzip-compressed bytes, signed over the uncompressed body (what the receiver checks). */
  function gzipped(body: string, encoding = 'gzip', base = server.url) {
    return fetch(`${base}/api/inbound/acme/hex`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-encoding': encoding,
        'x-signature': createHmac('sha256', hex.secret!).update(body).digest('hex'),
      },
      body: new Uint8Array(gzipSync(body)),
    });
  }

  it('inflates a gzip body and stores what it decodes to', async () => {
    const body = sample('alertmanager-alert.firing.json');
    const res = await gzipped(body);
    expect(res.status).toBe(200);
    expect((await delivery((await res.json()).delivery_id)).request_body).toEqual(JSON.parse(body));
  });

  it('applies the size limit to the decoded body', async () => {
    // ten copies of one alert: over 2048 bytes decoded, far under it compressed
    const body = JSON.stringify({ alerts: Array(10).fill(JSON.parse(sample('alertmanager-alert.firing.json'))) });
    expect(body.length).toBeGreaterThan(2048);
    expect(gzipSync(body).length).toBeLessThan(2048);
    const res = await gzipped(body, 'gzip', small.url);
    expect(res.status).toBe(413);
  });

  it('holds the wire bytes of an encoded body to the limit too (bytes after the gzip stream are otherwise ignored)', async () => {
    const body = '{"a":1}';
    const wire = Buffer.concat([gzipSync(body), Buffer.alloc(8 * 1024)]); // decodes to 7 bytes; 8 KB on the wire
    const headers = {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
      'x-signature': createHmac('sha256', hex.secret!).update(body).digest('hex'),
    };
    const declared = await fetch(`${small.url}/api/inbound/acme/hex`, { method: 'POST', headers, body: new Uint8Array(wire) });
    expect(declared.status).toBe(413);
    // and without a Content-Length (chunked), counted as the bytes arrive
    const chunked = await fetch(`${small.url}/api/inbound/acme/hex`, {
      method: 'POST',
      headers,
      body: new ReadableStream({ start(c) { c.enqueue(new Uint8Array(wire)); c.close(); } }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it('answers 415 to an encoding it cannot undo', async () => {
    const res = await gzipped(sample('alertmanager-alert.firing.json'), 'compress');
    expect(res.status).toBe(415);
    expect((await res.json()).error).toBe('unsupported content encoding "compress"');
  });
});

describe('bytes in flight', () => {
  it('answers 503 with Retry-After to a body that would go past INTAKE_MAX_BYTES_IN_FLIGHT, and frees the bytes after', async () => {
    const tight = await startTestServer(db.url, { worker: false, env: { INTAKE_MAX_BYTES_IN_FLIGHT: '3000' } });
    try {
      const body = JSON.stringify({ pad: 'x'.repeat(1400) }); // ~1.4 KB
      const open = (text: string) => {
        const req = http.request(`${tight.url}/api/inbound/acme/hex`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), 'x-signature': createHmac('sha256', hex.secret!).update(text).digest('hex') },
        });
        const answer = new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
          req.on('response', (res) => { res.resume(); res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] as string | undefined })); });
          req.on('error', reject);
        });
        return { req, answer };
      };
      // two slow senders, each with all but the last byte of its body sent: 2.8 KB held
      const slow = [open(body), open(body)];
      for (const s of slow) s.req.write(body.slice(0, -1));
      await sleep(300);
      const third = open(body);
      third.req.end(body);
      expect(await third.answer).toEqual({ status: 503, retryAfter: '5' });
      for (const s of slow) s.req.end(body.slice(-1));
      expect((await Promise.all(slow.map((s) => s.answer))).map((a) => a.status)).toEqual([200, 200]);
      // answered, their bytes are free again
      const after = open(body);
      after.req.end(body);
      expect((await after.answer).status).toBe(200);
    } finally {
      await tight.stop();
    }
  });
});

describe('size limit', () => {
  it('answers 413 to a body over INTAKE_BODY_LIMIT_BYTES and records nothing', async () => {
    const body = sample('github-workflow_run.completed.json');
    expect(body.length).toBeGreaterThan(2048);
    const before = await counts(hex.id);
    const res = await signed(body, { 'content-type': 'application/json' }, small.url);
    expect(res.status).toBe(413);
    expect((await res.json()).error).toMatch(/2048-byte limit/);
    expect(await counts(hex.id)).toEqual(before);
  });

  it('accepts a body under the limit on the same server', async () => {
    const body = sample('alertmanager-alert.firing.json');
    expect(body.length).toBeLessThan(2048);
    const res = await signed(body, { 'content-type': 'application/json' }, small.url);
    expect(res.status).toBe(200);
    const row = await delivery((await res.json()).delivery_id);
    expect(row.request_body).toEqual(JSON.parse(body));
  });
});

describe('content types', () => {
  it('records verified malformed JSON as failed with the raw text, and answers 400', async () => {
    const text = sample('opsgenie-alert.create.json').slice(0, -2);
    const res = await signed(text, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    const json = await res.json();
    expect(json.error).toMatch(/malformed JSON/);
    const row = await delivery(json.delivery_id);
    expect(row).toMatchObject({
      auth_status: 'verified', dispatch_status: 'failed', request_body: null, request_body_text: text,
      content_type: 'application/json', response_status: 400,
    });
    expect(row.error_message).toMatch(/malformed JSON/);
  });

  it('accepts GitHub form posts (payload=<urlencoded JSON>) as body_format form', async () => {
    const json = sample('github-issues.opened.json');
    const form = `payload=${encodeURIComponent(json)}`;
    const res = await fetch(`${server.url}/api/inbound/acme/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-hub-signature-256': `sha256=${createHmac('sha256', github.secret!).update(form).digest('hex')}`,
        'x-github-event': 'issues',
      },
      body: form,
    });
    expect(res.status).toBe(200);
    const row = await delivery((await res.json()).delivery_id);
    expect(row).toMatchObject({ body_format: 'form', content_type: 'application/x-www-form-urlencoded', dispatch_status: 'pending' });
    expect(Object.keys(row.request_body)).toEqual(['payload']);
    expect(JSON.parse(row.request_body.payload)).toEqual(JSON.parse(json));
  });

  it('keeps text/plain as text', async () => {
    const text = sample('ninjaone-condition.triggered.json');
    const res = await signed(text, { 'content-type': 'text/plain; charset=utf-8' });
    expect(res.status).toBe(200);
    const row = await delivery((await res.json()).delivery_id);
    expect(row).toMatchObject({ body_format: 'text', content_type: 'text/plain', request_body: text });
  });

  it('takes a JSON body without Content-Type (Tactical RMM) as JSON', async () => {
    const body = sample('tacticalrmm-check.failure.zammad-webhook.json');
    const res = await signed(body);
    expect(res.status).toBe(200);
    const row = await delivery((await res.json()).delivery_id);
    expect(row.request_headers).not.toHaveProperty('content-type');
    expect(row).toMatchObject({ body_format: 'json', content_type: null, request_body: JSON.parse(body) });
  });

  it('answers 415 to application/xml and records it as failed', async () => {
    const res = await signed('<alert><title>Disk full</title></alert>', { 'content-type': 'application/xml' });
    expect(res.status).toBe(415);
    const json = await res.json();
    expect(json.error).toMatch(/unsupported content type "application\/xml"/);
    const row = await delivery(json.delivery_id);
    expect(row).toMatchObject({ dispatch_status: 'failed', content_type: 'application/xml', response_status: 415, request_body: null });
    expect(row.error_message).toMatch(/unsupported content type/);
  });

  it('does not crash on "\\u0000" in a JSON string (which jsonb cannot hold)', async () => {
    const body = JSON.stringify({ ...JSON.parse(sample('wazuh-alert.shuffle-integration.json')), text: 'before\u0000after' });
    expect(body).toContain('\\u0000');
    const res = await signed(body, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    const row = await delivery((await res.json()).delivery_id);
    expect(row).toMatchObject({ auth_status: 'verified', dispatch_status: 'failed', response_status: 400, request_body_text: body });
    expect(row.error_message).toMatch(/\\u0000/);
  });

  it('does not answer 5xx to an unpaired surrogate escape (a truncated emoji), which jsonb refuses', async () => {
    // JSON.parse accepts "\ud83d" alone; Postgres jsonb does not. A 5xx would make the sender retry forever.
    const body = JSON.stringify({ ...JSON.parse(sample('datadog-monitor.triggered.json')), title: '🔥 disk full'.slice(0, 1) });
    expect(body).toContain('\\ud83d');
    const res = await signed(body, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    const row = await delivery((await res.json()).delivery_id);
    expect(row).toMatchObject({ auth_status: 'verified', dispatch_status: 'failed', response_status: 400, request_body_text: body });
    expect(row.error_message).toMatch(/surrogate/);
  });

  // Any data error that concerns one body is recorded and answered 400 with the reason: a 503
  // would make the sender retry it forever. Only an unavailable database is a 503.
  it('records a number jsonb cannot hold ({"n":1e200000}) as failed with the reason, 400', async () => {
    const body = '{"n":1e200000}';
    const res = await signed(body, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    const json = await res.json();
    expect(json.error).toMatch(/cannot be stored as JSON.*numeric/);
    const row = await delivery(json.delivery_id);
    expect(row).toMatchObject({ auth_status: 'verified', dispatch_status: 'failed', response_status: 400, request_body: null, request_body_text: body });
    expect(row.error_message).toBe(json.error);
  });

  it('records nesting deeper than jsonb allows as failed, 400; a request beside it in the batch is recorded', async () => {
    const depth = 200_000;
    const body = '['.repeat(depth) + ']'.repeat(depth);
    const ok = sample('alertmanager-alert.firing.json');
    const [deep, fine] = await Promise.all([
      signed(body, { 'content-type': 'application/json' }),
      signed(ok, { 'content-type': 'application/json' }),
    ]);
    expect(deep.status).toBe(400);
    const json = await deep.json();
    expect(json.error).toMatch(/cannot be stored as JSON.*stack depth/);
    expect(await delivery(json.delivery_id)).toMatchObject({ dispatch_status: 'failed', response_status: 400, request_body_text: body });
    expect(fine.status).toBe(200);
    expect((await delivery((await fine.json()).delivery_id)).dispatch_status).toBe('pending');
  });

  it('records a form field with %00 (NUL, which jsonb cannot hold) as failed, 400', async () => {
    const res = await signed('title=disk%00full', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(400);
    const row = await delivery((await res.json()).delivery_id);
    expect(row).toMatchObject({ dispatch_status: 'failed', response_status: 400, request_body_text: 'title=disk%00full' });
    expect(row.error_message).toMatch(/\\u0000/);
  });

  it('does not crash on a raw NUL byte in the body', async () => {
    const body = Buffer.from(sample('xero-contact.update.json').replace('"CONTACT"', '"CON\u0000TACT"'), 'utf8');
    expect(body.includes(0)).toBe(true);
    const res = await signed(body, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    const row = await delivery((await res.json()).delivery_id);
    expect(row).toMatchObject({ dispatch_status: 'failed', response_status: 400 });
    expect(row.error_message).toMatch(/NUL/);
  });
});

describe('stored headers', () => {
  it('drops credentials and signatures but keeps ordinary headers', async () => {
    const body = sample('github-issues.opened.json');
    const res = await fetch(`${server.url}/api/inbound/acme/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${createHmac('sha256', github.secret!).update(body).digest('hex')}`,
        'x-hub-signature': 'sha1=0000000000000000000000000000000000000000',
        'x-github-event': 'issues',
        'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
        'user-agent': 'GitHub-Hookshot/044aadd',
        authorization: 'Basic dXNlcjpwYXNzd29yZA==',
        cookie: 'session=s3cr3t-cookie',
      },
      body,
    });
    expect(res.status).toBe(200);
    const row = await delivery((await res.json()).delivery_id);
    for (const name of ['authorization', 'cookie', 'x-hub-signature-256', 'x-hub-signature']) {
      expect(row.request_headers).not.toHaveProperty(name);
    }
    expect(row.request_headers).toMatchObject({
      'user-agent': 'GitHub-Hookshot/044aadd', 'x-github-event': 'issues', 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    });
    expect(row.user_agent).toBe('GitHub-Hookshot/044aadd');
    const stored = JSON.stringify(row.request_headers);
    expect(stored).not.toContain('s3cr3t-cookie');
    expect(stored).not.toContain('dXNlcjpwYXNzd29yZA');
  });
});
