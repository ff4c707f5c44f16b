// Signing in as a user meets it from the terminal: `intake start` on an empty database prints a
// one-time setup link after the listening line (a restart prints a new one and the old one stops
// working; once a workspace exists, none); `intake user create --password-stdin` and
// `intake user set-password --password-stdin` (which signs the user out everywhere) with one-line
// refusals. The processes run at LOG_LEVEL=debug, and no password, session token, CSRF token or
// setup token appears in anything they write, except the setup link's own line.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { runIntake, startIntake, type CliRun, type RunningIntake } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { testRedisKeyPrefix } from './support/server.ts';

let db: TestDatabase;
const started: RunningIntake[] = [];
const runs: CliRun[] = [];
/** every secret the test handled: none may appear in any output */
const secrets: string[] = [];
const WORKSPACE = `cli-${randomBytes(4).toString('hex')}`;
const ADMIN_PASSWORD = `admin ${randomBytes(9).toString('base64url')}`;
const VIEWER_PASSWORD = `viewer ${randomBytes(9).toString('base64url')}`;
const NEW_PASSWORD = `changed ${randomBytes(9).toString('base64url')}`;
secrets.push(ADMIN_PASSWORD, VIEWER_PASSWORD, NEW_PASSWORD);

const env = () => ({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug', REDIS_URL: inject('redisUrl'), INTAKE_REDIS_KEY_PREFIX: testRedisKeyPrefix() });

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const process of started) await process.stop();
  await db?.drop();
});

function start(): RunningIntake {
  const running = startIntake(db.url, ['start'], env());
  started.push(running);
  return running;
}

async function intake(args: string[], input?: string): Promise<CliRun> {
  const run = await runIntake(db.url, args, { LOG_LEVEL: 'debug' }, input);
  runs.push(run);
  return run;
}

async function json(args: string[], input?: string): Promise<any> {
  const run = await intake(args, input);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

/** A refusal: exit 2, nothing on stdout, and the last stderr line is the one `intake:` line. */
async function refused(args: string[], input?: string): Promise<string> {
  const run = await intake(args, input);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.split('\n').filter((l) => l.startsWith('intake: '));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

async function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.99.99.99', ...headers },
    body: JSON.stringify(body),
  });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('intake_session='))?.split(';')[0]?.slice('intake_session='.length);
  const text = await res.text();
  return { status: res.status, text, body: text ? JSON.parse(text) : undefined, cookie };
}

async function signIn(base: string, email: string, password: string) {
  const answer = await post(base, '/auth/sign-in', { workspace: WORKSPACE, email, password });
  if (answer.status === 200) secrets.push(answer.cookie!, answer.body.csrfToken);
  return answer;
}

async function permissions(base: string, session: { cookie: string; csrf: string }) {
  const answer = await post(base, '/graphql', { query: '{ currentPermissions }' }, { cookie: `intake_session=${session.cookie}`, 'x-csrf-token': session.csrf });
  return { status: answer.status, permissions: answer.body?.data?.currentPermissions };
}

// Each step starts processes (a CLI call migrates before it runs): slow on a loaded machine.
describe('intake start and the user commands', { timeout: 120_000 }, () => {
  let base = '';
  let viewer: { cookie: string; csrf: string };

  it('prints a setup link after the listening line on an empty database; a restart replaces it', async () => {
    const first = start();
    const firstLink = await first.line(/^Set up your workspace: /);
    const lines = first.stdout.split('\n');
    expect(lines[0]).toMatch(/^Intake listening on http:\/\/127\.0\.0\.1:\d+ /);
    expect(lines[1]).toBe(firstLink);
    const firstToken = /token=(setup_[A-Za-z0-9_-]{43})$/.exec(firstLink)![1]!;
    await first.stop();

    const second = start();
    const link = await second.line(/^Set up your workspace: /);
    const listening = await second.line(/^Intake listening on /);
    base = /^Intake listening on (\S+)/.exec(listening)![1]!;
    expect(link).toMatch(new RegExp(`^Set up your workspace: ${base}/setup\\?token=setup_[A-Za-z0-9_-]{43}$`));
    const token = /token=(\S+)$/.exec(link)![1]!;
    secrets.push(firstToken, token);
    expect(token).not.toBe(firstToken);
    expect((await fetch(`${base}/auth/setup?token=${firstToken}`)).status).toBe(410);
    expect(await (await fetch(`${base}/auth/setup?token=${token}`)).json()).toEqual({ valid: true });

    const setup = await post(base, '/auth/setup', { token, tenantSlug: WORKSPACE, tenantName: 'CLI MSP', email: 'admin@example.com', password: ADMIN_PASSWORD });
    expect(setup.status, setup.text).toBe(201);
    secrets.push(setup.cookie!, setup.body.csrfToken);
    expect((await permissions(base, { cookie: setup.cookie!, csrf: setup.body.csrfToken })).permissions).toContain('inbound_webhook:create');
  });

  it('user create --password-stdin makes a user who can sign in', async () => {
    const created = await json(['user', 'create', '--tenant', WORKSPACE, '--email', 'viewer@example.com', '--role', 'viewer', '--password-stdin'], `${VIEWER_PASSWORD}\n`);
    expect(created).toEqual({ user_id: expect.any(String), email: 'viewer@example.com', role: 'viewer' });
    const answer = await signIn(base, 'viewer@example.com', VIEWER_PASSWORD);
    expect(answer.status, answer.text).toBe(200);
    viewer = { cookie: answer.cookie!, csrf: answer.body.csrfToken };
    expect(await permissions(base, viewer)).toEqual({ status: 200, permissions: ['inbound_webhook:read', 'outbound_webhook:read'] });
  });

  it('refuses a short password, an empty stdin, a missing --password-stdin and an unknown user, in one line', async () => {
    expect(await refused(['user', 'create', '--tenant', WORKSPACE, '--email', 'x@example.com', '--role', 'viewer', '--password-stdin'], 'short\n'))
      .toBe('intake: password: must be at least 12 characters');
    expect(await refused(['user', 'set-password', '--tenant', WORKSPACE, '--email', 'viewer@example.com', '--password-stdin'], ''))
      .toMatch(/^intake: --password-stdin: stdin is empty/);
    expect(await refused(['user', 'set-password', '--tenant', WORKSPACE, '--email', 'viewer@example.com']))
      .toBe('intake: --password-stdin is required: the password is read from stdin, never from an argument');
    expect(await refused(['user', 'set-password', '--tenant', WORKSPACE, '--email', 'nobody@example.com', '--password-stdin'], NEW_PASSWORD))
      .toBe(`intake: tenant "${WORKSPACE}" has no user with email "nobody@example.com"`);
    expect(await refused(['user', 'set-password', '--tenant', 'no-such-tenant', '--email', 'viewer@example.com', '--password-stdin'], NEW_PASSWORD))
      .toBe('intake: no tenant with slug "no-such-tenant"');
    const { rows } = await db.pool.query(`select count(*)::int as n from psa.users where email = 'x@example.com'`);
    expect(rows[0].n).toBe(0);
  });

  it('user set-password replaces the password and signs the user out everywhere', async () => {
    const changed = await json(['user', 'set-password', '--tenant', WORKSPACE, '--email', 'VIEWER@example.com', '--password-stdin'], NEW_PASSWORD);
    expect(changed).toEqual({ user_id: expect.any(String), email: 'viewer@example.com', sessions_revoked: 1 });
    expect((await permissions(base, viewer)).status).toBe(401);
    expect((await signIn(base, 'viewer@example.com', VIEWER_PASSWORD)).status).toBe(401);
    expect((await signIn(base, 'viewer@example.com', NEW_PASSWORD)).status).toBe(200);
  });

  it('prints no setup link once a workspace exists', async () => {
    for (const running of started) await running.stop();
    const again = start();
    await again.line(/^Intake listening on /);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(again.stdout).not.toContain('Set up your workspace');
    await again.stop();
  });

  it('writes no password, session token, CSRF token or setup token anywhere but the setup line', async () => {
    for (const running of started) await running.stop();
    const outputs = [
      ...started.map((r) => r.stderr),
      ...started.map((r) => r.stdout.split('\n').filter((l) => !l.startsWith('Set up your workspace: ')).join('\n')),
      ...runs.flatMap((r) => [r.stdout, r.stderr]),
    ];
    // the processes did log (debug): the check below is not vacuous
    expect(started[0]!.stderr).toContain('"level":"debug"');
    expect(secrets.length).toBeGreaterThanOrEqual(9);
    for (const secret of secrets) {
      for (const output of outputs) expect(output.includes(secret), `a secret (${secret.slice(0, 6)}…) in the output`).toBe(false);
    }
  });
});
