// Which address a request came from. X-Forwarded-For is believed only when the TCP peer is a
// trusted proxy, and then only back to the first hop that is not itself a trusted proxy: anything
// further left was written by the client and may be forged.
import { isIP, type BlockList } from 'node:net';

/** `::ffff:203.0.113.5` → `203.0.113.5`, so IPv4 rules match dual-stack sockets. Anything else unchanged. */
export function normalizeIp(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] !== undefined && isIP(mapped[1]) === 4 ? mapped[1] : address;
}

/** True when `address` is a valid IP inside `list`. */
export function ipInList(list: BlockList, address: string): boolean {
  const version = isIP(address);
  if (version === 0) return false;
  if (list.check(address, version === 4 ? 'ipv4' : 'ipv6')) return true;
  // an IPv4 address may also be listed in its mapped form (::ffff:a.b.c.d/…)
  return version === 4 && list.check(`::ffff:${address}`, 'ipv6');
}

/** One X-Forwarded-For entry as a bare address ("[::1]:80" and "1.2.3.4:5" tolerated), or null if garbage. */
function parseForwardedEntry(entry: string): string | null {
  let text = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed?.[1] !== undefined) text = bracketed[1];
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(text)) text = text.slice(0, text.lastIndexOf(':'));
  return isIP(text) === 0 ? null : normalizeIp(text);
}

export function resolveClientIp(
  remoteAddress: string | undefined,
  forwardedFor: string | undefined,
  trustedProxies: BlockList | null,
): string {
  const remote = normalizeIp(remoteAddress ?? '');
  if (trustedProxies === null || !ipInList(trustedProxies, remote) || !forwardedFor) return remote;

  let current = remote;
  const hops = forwardedFor.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseForwardedEntry(hops[i] ?? '');
    // A garbage entry means the chain can no longer be trusted: stop at the last hop we believed.
    if (hop === null) return current;
    if (!ipInList(trustedProxies, hop)) return hop;
    current = hop;
  }
  return current; // every hop is a trusted proxy: the leftmost is the best we know
}
