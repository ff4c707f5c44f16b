// `intake user create`, `intake user set-password` and `intake api-key create`: who may use the
// management APIs and the web UI. Wired into cli/intake.ts as
// `case 'user': case 'api-key': return accessCommand(command, args);`. JSON on stdout like every
// command; bad arguments throw UsageError (one line on stderr, exit 2). A password is read from
// stdin only (--password-stdin), never from an argument, which `ps` and shell history would show.
import { createApiKey, createUser, setUserPassword } from '../../core/access.ts';
import { UserError } from '../../core/errors.ts';
import { passwordProblem } from '../../core/passwords.ts';
import { need, parse, UsageError, withDatabase } from '../args.ts';

export const ACCESS_USAGE = `  user create --tenant S --email E --role admin|viewer [--name DISPLAY_NAME] [--password-stdin]
  user set-password --tenant S --email E --password-stdin     also signs the user out everywhere
  api-key create --tenant S --user EMAIL      the key is shown this once`;

/** The password on stdin: everything up to EOF, less one trailing newline. Checked before the database is opened. */
async function passwordFromStdin(stdin: AsyncIterable<Buffer | string> = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (password === '') throw new UsageError('--password-stdin: stdin is empty; pipe the password in, e.g. printf %s "$PASSWORD" | intake …');
  const problem = passwordProblem(password);
  if (problem) throw new UserError('validation', `password: ${problem}`);
  return password;
}

/** `command` is `user` or `api-key`; `args` starts with the subcommand (`create`, `set-password`). */
export async function accessCommand(command: string, args: string[], stdin?: AsyncIterable<Buffer | string>): Promise<unknown> {
  const [sub, ...rest] = args;
  if (command === 'user' && sub === 'create') {
    const v = parse(rest, {
      tenant: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    });
    const tenant = need(v, 'tenant');
    const input = { email: need(v, 'email'), role: need(v, 'role'), ...(v.name !== undefined ? { display_name: v.name } : {}) };
    const password = v['password-stdin'] === true ? await passwordFromStdin(stdin) : undefined;
    return withDatabase((client) => createUser(client, tenant, { ...input, ...(password !== undefined ? { password } : {}) }));
  }
  if (command === 'user' && sub === 'set-password') {
    const v = parse(rest, { tenant: { type: 'string' }, email: { type: 'string' }, 'password-stdin': { type: 'boolean' } });
    const tenant = need(v, 'tenant');
    const email = need(v, 'email');
    if (v['password-stdin'] !== true) throw new UsageError('--password-stdin is required: the password is read from stdin, never from an argument');
    const password = await passwordFromStdin(stdin);
    return withDatabase((client) => setUserPassword(client, tenant, email, password));
  }
  if (command === 'api-key' && sub === 'create') {
    const v = parse(rest, { tenant: { type: 'string' }, user: { type: 'string' } });
    const tenant = need(v, 'tenant');
    const email = need(v, 'user');
    return withDatabase((client) => createApiKey(client, tenant, email));
  }
  throw new UsageError(`unknown command "${[command, sub].filter(Boolean).join(' ')}"; usage:\n${ACCESS_USAGE}`);
}
