// The outbound CLI as a user runs it (a child process): `intake subscription create` prints the
// id and the whsec_ secret once, `subscription list` never shows it, `events list` shows what a
// change emitted; bad input is one line on stderr and a non-zero exit.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runIntake } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant } from './support/server.ts';

let db: TestDatabase;
let tenant: string;
const ENV = { INTAKE_OUTBOUND_ALLOW_CIDRS: '127.0.0.0/8', INTAKE_OUTBOUND_ALLOW_HTTP: 'true' };

beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await makeTenant(db.pool, 'acme');
});
afterAll(async () => {
  await db?.drop();
});

it('creates a subscription: {"id","secret"}, the secret this once', async () => {
  const run = await runIntake(db.url, ['subscription', 'create', '--tenant', 'acme', '--url', 'http://127.0.0.1:9/hook',
    '--events', 'ticket.*,invoice.paid', '--header', 'X-Team=ops'], ENV);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const created = JSON.parse(run.stdout);
  expect(Object.keys(created).sort()).toEqual(['id', 'secret']);
  expect(created.secret).toMatch(/^whsec_/);
  const list = await runIntake(db.url, ['subscription', 'list', '--tenant', 'acme'], ENV);
  const listed = JSON.parse(list.stdout);
  expect(listed).toEqual([expect.objectContaining({ id: created.id, url: 'http://127.0.0.1:9/hook', event_types: ['ticket.*', 'invoice.paid'], headers: { 'X-Team': 'ops' }, is_active: true })]);
  expect(list.stdout).not.toContain(created.secret.slice(6));
});

it('refuses what the API refuses, in one line', async () => {
  const metadata = await runIntake(db.url, ['subscription', 'create', '--tenant', 'acme', '--url', 'https://169.254.169.254/', '--events', '*'], ENV);
  expect(metadata.code).not.toBe(0);
  expect(metadata.stderr.trim()).toMatch(/url: refused: 169\.254\.169\.254 is a link-local address/);
  const http = await runIntake(db.url, ['subscription', 'create', '--tenant', 'acme', '--url', 'http://example.com/', '--events', '*']);
  expect(http.stderr.trim()).toMatch(/url: must be https \(an operator may allow http with INTAKE_OUTBOUND_ALLOW_HTTP=true\)/);
  const unknown = await runIntake(db.url, ['subscription', 'create', '--tenant', 'acme', '--url', 'http://127.0.0.1:9/', '--events', 'tickets.*'], ENV);
  expect(unknown.stderr.trim()).toMatch(/eventTypes: unknown entity "tickets"/);
  const missing = await runIntake(db.url, ['subscription', 'create', '--tenant', 'acme', '--url', 'http://127.0.0.1:9/'], ENV);
  expect(missing.code).toBe(2);
  expect(missing.stderr.trim()).toMatch(/--events is required/);
});

it('lists events', async () => {
  await db.pool.query(`insert into psa.clients (tenant, client_name) values ($1, 'From the CLI test')`, [tenant]);
  const run = await runIntake(db.url, ['events', 'list', '--tenant', 'acme', '--type', 'client.created']);
  expect(run.code).toBe(0);
  const events = JSON.parse(run.stdout);
  expect(events).toEqual([expect.objectContaining({ event_type: 'client.created', entity_type: 'client', entity_version: 1, payload: expect.objectContaining({ type: 'client.created' }) })]);
  const deliveries = await runIntake(db.url, ['events', 'deliveries', '--tenant', 'acme', '--status', 'failed']);
  expect(JSON.parse(deliveries.stdout)).toEqual([]);
});
