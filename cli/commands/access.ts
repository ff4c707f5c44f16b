// `intake user create` and `intake api-key create`: who may use the management APIs. Wired into
// cli/intake.ts as `case 'user': case 'api-key': return accessCommand(command, args);`.
// JSON on stdout like every command; bad arguments throw UsageError (one line on stderr, exit 2).
import { createApiKey, createUser } from '../../core/access.ts';
import { need, parse, UsageError, withDatabase } from '../args.ts';

export const ACCESS_USAGE = `  user create --tenant S --email E --role admin|viewer [--name DISPLAY_NAME]
  api-key create --tenant S --user EMAIL      the key is shown this once`;

/** `command` is `user` or `api-key`; `args` starts with the subcommand (`create`). */
export async function accessCommand(command: string, args: string[]): Promise<unknown> {
  const [sub, ...rest] = args;
  if (command === 'user' && sub === 'create') {
    const v = parse(rest, { tenant: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' } });
    const tenant = need(v, 'tenant');
    const input = { email: need(v, 'email'), role: need(v, 'role'), ...(v.name !== undefined ? { display_name: v.name } : {}) };
    return withDatabase((client) => createUser(client, tenant, input));
  }
  if (command === 'api-key' && sub === 'create') {
    const v = parse(rest, { tenant: { type: 'string' }, user: { type: 'string' } });
    const tenant = need(v, 'tenant');
    const email = need(v, 'user');
    return withDatabase((client) => createApiKey(client, tenant, email));
  }
  throw new UsageError(`unknown command "${[command, sub].filter(Boolean).join(' ')}"; usage:\n${ACCESS_USAGE}`);
}
