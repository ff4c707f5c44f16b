// Source-address allowlist. `request.sourceIp` has already been through the trusted-proxy rule.
import type { BlockList } from 'node:net';
import { blockListFrom, type AuthConfig } from '../../../core/webhookConfig.ts';
import { ipInList, normalizeIp } from '../../clientIp.ts';
import type { AuthScheme } from '../types.ts';

type IpAllowlistAuthConfig = Extract<AuthConfig, { auth_type: 'ip_allowlist' }>;

// Configs are loaded once and reused, so building the BlockList per config object (not per
// request) is enough; the WeakMap lets it go when the config is dropped.
const cache = new WeakMap<IpAllowlistAuthConfig, BlockList>();

function listFor(config: IpAllowlistAuthConfig): BlockList | null {
  let list = cache.get(config);
  if (list === undefined) {
    try {
      list = blockListFrom(config.cidrs);
    } catch {
      return null; // a config that skipped validation; refuse rather than throw
    }
    cache.set(config, list);
  }
  return list;
}

export const ipAllowlistScheme: AuthScheme<IpAllowlistAuthConfig> = {
  authType: 'ip_allowlist',
  verify(request, config) {
    const list = listFor(config);
    if (list === null) return { ok: false, status: 'rejected_ip', reason: 'allowlist contains an invalid CIDR' };
    const ip = normalizeIp(request.sourceIp);
    return ipInList(list, ip)
      ? { ok: true }
      : { ok: false, status: 'rejected_ip', reason: `source address ${ip || '(unknown)'} is not in the allowlist` };
  },
};
