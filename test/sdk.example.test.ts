// The SDK's README example, run as written (its ```ts block, saved beside the SDK and started
// with Node) against a test server: it creates a webhook, sends it a signed request and reads
// the dispatched delivery through the typed client.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { userWithKey } from './support/graphql.ts';
import { makeTenant, startTestServer, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
const exampleFile = new URL(`../sdk/.readme-example-${process.pid}.ts`, import.meta.url);

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  await makeTenant(db.pool, 'acme');
});
afterAll(async () => {
  rmSync(exampleFile, { force: true });
  await server?.stop();
  await db?.drop();
});

it('runs the README example against a local server', async () => {
  const readme = readFileSync(new URL('../sdk/README.md', import.meta.url), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toContain("from '@intake/sdk'");
  writeFileSync(exampleFile, code!);
  const { key } = await userWithKey(db.pool, 'acme', 'admin');
  const { stdout } = await promisify(execFile)(process.execPath, [exampleFile.pathname], {
    env: { ...process.env, INTAKE_URL: server.url, INTAKE_API_KEY: key },
    timeout: 30_000,
  });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
  expect(result.status).toBe(200);
  expect(result.delivery).toMatchObject({ dispatch_status: 'dispatched', request_body: { alert: { title: 'Disk almost full on SRV-01' } } });
  expect(result.delivery.handler_outcome).toMatchObject({ action: 'createTicket', created: true });
});
