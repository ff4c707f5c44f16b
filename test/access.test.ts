// `intake user create` and `intake api-key create` (cli/commands/access.ts): users get a role,
// keys are shown once and stored as a digest, and the key works against the GraphQL API.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { accessCommand } from '../cli/commands/access.ts';
import { parseApiKey } from '../core/access.ts';
import { UsageError } from '../cli/args.ts';
import { UserError } from '../core/errors.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { graphqlClient, ok } from './support/graphql.ts';
import { makeTenant, startTestServer, testMasterKey, type TestServer } from './support/server.ts';

let db: TestDatabase;
let server: TestServer;
let saved: NodeJS.ProcessEnv;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url, { worker: false });
  await makeTenant(db.pool, 'acme');
  saved = { ...process.env };
  Object.assign(process.env, { DATABASE_URL: db.url, INTAKE_MASTER_KEY: testMasterKey });
});
afterAll(async () => {
  process.env = saved;
  await server?.stop();
  await db?.drop();
});

it('creates a user with a role and an API key for them, shown once and stored as a digest', async () => {
  const user = await accessCommand('user', ['create', '--tenant', 'acme', '--email', 'Pat@acme.example', '--role', 'viewer']);
  expect(user).toEqual({ user_id: expect.any(String), email: 'Pat@acme.example', role: 'viewer' });
  const created = (await accessCommand('api-key', ['create', '--tenant', 'acme', '--user', 'pat@acme.example'])) as Record<string, string>;
  expect(Object.keys(created).sort()).toEqual(['api_key', 'api_key_id', 'prefix']);
  expect(parseApiKey(created.api_key!)).not.toBeNull();
  const { rows } = await db.pool.query(`select prefix, key_hash, to_jsonb(k)::text as row from psa.api_keys k where api_key_id = $1`, [created.api_key_id]);
  expect(rows[0].prefix).toBe(created.prefix);
  expect(rows[0].row).not.toContain(created.api_key!.slice(-43)); // never the key itself
  const data = await ok(graphqlClient(server.url, created.api_key!), '{ currentPermissions }');
  expect(data.currentPermissions).toEqual(['inbound_webhook:read', 'outbound_webhook:read']);
});

it('refuses unknown roles, tenants and users, and a second user with the same email', async () => {
  const refused = async (command: string, args: string[]) => {
    try {
      await accessCommand(command, args);
    } catch (error) {
      // refused by the database or the rules (UserError), or for its arguments (UsageError):
      // either way one line on stderr and exit 2
      expect(error instanceof UserError || error instanceof UsageError, String(error)).toBe(true);
      return (error as Error).message;
    }
    throw new Error('expected a refusal');
  };
  expect(await refused('user', ['create', '--tenant', 'acme', '--email', 'x@acme.example', '--role', 'owner'])).toMatch(/no role "owner" \(roles: admin, viewer\)/);
  expect(await refused('user', ['create', '--tenant', 'nope', '--email', 'x@acme.example', '--role', 'admin'])).toMatch(/no tenant with slug "nope"/);
  expect(await refused('user', ['create', '--tenant', 'acme', '--email', 'pat@ACME.example', '--role', 'admin'])).toMatch(/already has a user/);
  expect(await refused('api-key', ['create', '--tenant', 'acme', '--user', 'nobody@acme.example'])).toMatch(/no user with email/);
  expect(await refused('api-key', ['create', '--tenant', 'acme'])).toMatch(/--user is required/);
  expect(await refused('user', ['delete'])).toMatch(/unknown command "user delete"/);
});
