// Running it: /healthz and /readyz, /metrics (its content after real traffic, the bearer token,
// a port of its own), request ids, and the log's redaction of secret-bearing fields.
import { createHmac } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../core/env.ts';
import { createLogger, SECRET_FIELDS, withRequestId } from '../core/log.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { actionWebhook, postSigned } from './support/inbound.ts';
import { makeTenant, settledDelivery, startTestServer, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { worker: true });
  await makeTenant(db.pool, 'ops');
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

/** The value of one sample of the Prometheus text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('health and readiness', () => {
  it('/healthz says the process is alive', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz checks the database, the migrations and the worker', async () => {
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', worker: 'running' } });
  });

  it('/readyz is 503 while the database lacks a migration this code knows', async () => {
    const other = await createTestDatabase();
    try {
      const { rows } = await other.pool.query(`select hash from graphile_migrate.migrations order by filename desc limit 1`);
      // the newest migration's row gone: as if this release's `intake migrate` had not run yet
      await other.pool.query(`delete from graphile_migrate.migrations where hash = $1`, [rows[0].hash]);
      const behind = await startTestServer(other.url, { worker: false });
      try {
        const res = await fetch(`${behind.url}/readyz`);
        expect(res.status).toBe(503);
        expect(await res.json()).toEqual({ status: 'not_ready', checks: { database: 'ok', migrations: 'pending: run intake migrate' } });
      } finally {
        await behind.stop();
      }
    } finally {
      await other.drop();
    }
  });

  it('says 503 shutting_down first when stopping, while requests already in flight are still answered', async () => {
    const stopping = await startTestServer(db.url, { worker: false, env: { INTAKE_SHUTDOWN_DELAY_MS: '400' } });
    const hook = await actionWebhook(db.pool, 'ops', 'stopping', 'createTicket', { title: 'title' });
    const stopped = stopping.stop();
    const ready = await fetch(`${stopping.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'shutting_down', checks: { shutdown: 'in progress' } });
    // Within the delay the listener still takes requests; their answers close the connection.
    const res = await fetch(`${stopping.url}/api/inbound/ops/stopping`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': createHmac('sha256', hook.secret!).update('{"title":"late"}').digest('hex') }, body: '{"title":"late"}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('connection')).toBe('close');
    await stopped;
    await expect(fetch(`${stopping.url}/healthz`)).rejects.toThrow();
  });
});

describe('/metrics', () => {
  it('counts answers by reason, auth failures, batches, dispatches and the backlog, with no ids or slugs as labels', async () => {
    const hook = await actionWebhook(db.pool, 'ops', 'metered', 'createTicket', { title: 'title' });
    const first = await postSigned(server.url, 'ops', 'metered', hook.secret!, { title: 'one' });
    expect(first.status).toBe(200);
    await settledDelivery(db.pool, first.body.delivery_id);
    const bad = await fetch(`${server.url}/api/inbound/ops/metered`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': '00' }, body: '{}' });
    expect(bad.status).toBe(401);
    const unknownTenant = await fetch(`${server.url}/api/inbound/nobody/metered`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unknownTenant.status).toBe(401);

    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(sample(text, 'intake_inbound_requests_total', { status: '200', reason: 'accepted' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'intake_inbound_requests_total', { status: '401', reason: 'unauthorized' })).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'intake_inbound_auth_failures_total', { reason: 'rejected_signature' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'intake_inbound_auth_failures_total', { reason: 'unknown_tenant' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'intake_receive_batch_size_count')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'intake_receive_batch_seconds_count', { result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'intake_dispatch_outcomes_total', { action: 'createTicket', outcome: 'dispatched' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'intake_dispatch_latency_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'intake_jsonata_evaluation_seconds_count', { result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'intake_deliveries_pending')).toBe(0);
    expect(sample(text, 'intake_deliveries_oldest_pending_seconds')).toBe(0);
    expect(sample(text, 'intake_database_up')).toBe(1);
    expect(sample(text, 'intake_db_pool_connections', { pool: 'main', state: 'max' })).toBe(server.env.dbPoolSize);
    expect(sample(text, 'intake_db_pool_waiting', { pool: 'api' })).toBe(0);
    expect(sample(text, 'intake_ready')).toBe(1);
    expect(text).toContain('# TYPE intake_outbound_attempts_total counter');
    expect(text).toContain('# TYPE intake_retention_runs_total counter');
    expect(text).toContain('process_cpu_seconds_total');
    // Low cardinality: no tenant, webhook, slug or delivery id anywhere in the labels.
    for (const forbidden of [hook.id, first.body.delivery_id, 'metered', 'nobody', '"ops"']) expect(text).not.toContain(forbidden);
  });

  it('shows the pending backlog and its age', async () => {
    // A database of its own with no worker, so the delivery stays pending.
    const other = await createTestDatabase();
    const quiet = await startTestServer(other.url, { worker: false });
    try {
      await makeTenant(other.pool, 'ops');
      const hook = await actionWebhook(other.pool, 'ops', 'backlog', 'createTicket', { title: 'title' });
      const answer = await postSigned(quiet.url, 'ops', 'backlog', hook.secret!, { title: 'waits' });
      expect(answer.status).toBe(200);
      await other.pool.query(`update intake.inbound_webhook_deliveries set received_at = now() - interval '90 seconds' where delivery_id = $1`, [answer.body.delivery_id]);
      const text = await (await fetch(`${quiet.url}/metrics`)).text();
      expect(sample(text, 'intake_deliveries_pending')).toBe(1);
      expect(sample(text, 'intake_deliveries_oldest_pending_seconds')).toBeGreaterThanOrEqual(90);
      expect(sample(text, 'intake_jobs', { state: 'ready' })).toBe(1);
    } finally {
      await quiet.stop();
      await other.drop();
    }
  });

  it('asks for INTAKE_METRICS_TOKEN as a bearer token when set', async () => {
    const locked = await startTestServer(db.url, { worker: false, env: { INTAKE_METRICS_TOKEN: 'scrape-me' } });
    try {
      expect((await fetch(`${locked.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${locked.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const ok = await fetch(`${locked.url}/metrics`, { headers: { authorization: 'Bearer scrape-me' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('intake_inbound_requests_total');
      expect((await fetch(`${locked.url}/healthz`)).status).toBe(200); // health stays open
    } finally {
      await locked.stop();
    }
  });

  it('moves to a port of its own with INTAKE_METRICS_PORT', async () => {
    const split = await startTestServer(db.url, { worker: false, env: { INTAKE_METRICS_PORT: '0' } });
    try {
      expect(split.runtime.opsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${split.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${split.runtime.opsUrl}/metrics`)).status).toBe(200);
      expect((await fetch(`${split.runtime.opsUrl}/readyz`)).status).toBe(200);
      expect((await fetch(`${split.runtime.opsUrl}/graphql`)).status).toBe(404);
    } finally {
      await split.stop();
    }
  });

  it('is how a worker-only process serves /metrics and /readyz', async () => {
    const worker = await startTestServer(db.url, { receiver: false, worker: true, env: { INTAKE_METRICS_PORT: '0' } });
    try {
      expect(worker.runtime.url).toBeNull();
      const ready = await fetch(`${worker.runtime.opsUrl}/readyz`);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', worker: 'running' } });
      const text = await (await fetch(`${worker.runtime.opsUrl}/metrics`)).text();
      expect(sample(text, 'intake_db_pool_connections', { pool: 'main', state: 'max' })).toBe(worker.env.dbPoolSize);
      expect(sample(text, 'intake_worker_restarts_total')).toBe(0);
    } finally {
      await worker.stop();
    }
  });
});

describe('the dashboard and the docs', () => {
  it('draw and explain only metrics that exist, and every intake_ metric is explained', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const defined = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const dashboard = readFileSync(new URL('../docs/grafana-dashboard.json', import.meta.url), 'utf8');
    const exprs = [...dashboard.matchAll(/"expr": "((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
    expect(exprs.length).toBeGreaterThan(20);
    const drawn = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:intake|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|count|sum)$/, ''))));
    expect([...drawn].filter((name) => !defined.has(name))).toEqual([]);
    const doc = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8');
    expect([...defined].filter((name) => name.startsWith('intake_') && !doc.includes(`\`${name}\``))).toEqual([]);
  });
});

describe('request ids', () => {
  it('echoes a given X-Request-Id and makes one otherwise', async () => {
    const given = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'lb-1234.abc' } });
    expect(given.headers.get('x-request-id')).toBe('lb-1234.abc');
    const made = await fetch(`${server.url}/api/inbound/nobody/x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // a value that could forge a log line is replaced, not echoed
    const forged = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'a b"}{' } });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('the log', () => {
  function capture() {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    return { lines, logger: createLogger(stream, 'debug') };
  }

  it('writes every secret-bearing field as [redacted], at the top and nested, and tags lines with the request id', () => {
    const { lines, logger } = capture();
    const secret = 'S3CR3T-value-that-must-not-appear';
    const fields = Object.fromEntries(SECRET_FIELDS.map((name) => [name, secret]));
    withRequestId('req-42', () => logger.info({ ...fields, nested: { ...fields }, deeper: { headers: { ...fields } }, tenant: 't1' }, 'something happened'));
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(JSON.stringify(line)).not.toContain(secret);
    expect(line).toMatchObject({ level: 'info', msg: 'something happened', tenant: 't1', req_id: 'req-42' });
    expect(line!.authorization).toBe('[redacted]');
    expect((line!.nested as Record<string, unknown>)['x-signature']).toBe('[redacted]');
    expect(((line!.deeper as Record<string, unknown>).headers as Record<string, unknown>).cookie).toBe('[redacted]');
    for (const name of ['secret', 'password', 'token', 'api_key', 'connectionString', 'stripe-signature', 'request_body']) {
      expect(line![name], name).toBe('[redacted]');
    }
  });

  it('is readable lines (pino-pretty) in a terminal or with LOG_FORMAT=pretty, JSON otherwise, redacted either way', () => {
    const script = `import { log } from './core/log.ts'; log.info('hello there', { tenant: 't-1', secret: 'PRETTY-SECRET' });`;
    const run = (format: string) => spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: PROJECT_ROOT, env: { PATH: process.env.PATH ?? '', LOG_FORMAT: format, LOG_LEVEL: 'info' }, encoding: 'utf8',
    }).stderr;
    const pretty = run('pretty');
    expect(pretty).toMatch(/INFO.*hello there/);
    expect(pretty).toContain('t-1');
    expect(pretty).not.toContain('{"level"');
    expect(pretty).not.toContain('PRETTY-SECRET');
    const json = JSON.parse(run('json').trim());
    expect(json).toMatchObject({ level: 'info', msg: 'hello there', tenant: 't-1', secret: '[redacted]' });
  });

  it('honours the level', () => {
    const { lines, logger } = capture();
    logger.level = 'warn';
    logger.info('quiet');
    logger.warn('loud');
    expect(lines.map((l) => l.msg)).toEqual(['loud']);
  });
});
