// SSRF guard for outbound webhooks: no attempt may reach a loopback, private, link-local, CGNAT,
// multicast, reserved or cloud-metadata address. The check is made on the address actually
// dialled: the undici Agent's `connect.lookup` resolves the name itself and hands the socket
// only the addresses that pass (so DNS rebinding between a check and the connect cannot slip
// a private address in), and IP-literal URLs, which skip lookup, are checked before dialling.
// A subscription's URL is also checked when it is saved, for an early, clear error.
// INTAKE_OUTBOUND_ALLOW_CIDRS lets an operator (and the tests, on loopback) allow ranges.
import dns from 'node:dns';
import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { Agent } from 'undici';

export type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Parses INTAKE_OUTBOUND_ALLOW_CIDRS ("127.0.0.0/8,::1/128"); a bare address is a /32 or /128. */
export function parseAllowCidrs(text: string | undefined): Cidr[] {
  const cidrs: Cidr[] = [];
  for (const part of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    try {
      cidrs.push(part.includes('/') ? ipaddr.parseCIDR(part) : (() => {
        const address = ipaddr.parse(part);
        return [address, address.kind() === 'ipv4' ? 32 : 128] as Cidr;
      })());
    } catch {
      throw new Error(`INTAKE_OUTBOUND_ALLOW_CIDRS: "${part}" is not an address or CIDR range`);
    }
  }
  return cidrs;
}

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address it carries. */
function unwrap(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

const RANGE_NAMES: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  linkLocal: 'a link-local address (cloud metadata lives here)',
  carrierGradeNat: 'a carrier-grade NAT address',
  multicast: 'a multicast address',
  unspecified: 'the unspecified address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
  uniqueLocal: 'a unique-local (private) address',
};

/**
 * Why this address may not be dialled, or null when it may: public unicast only (ipaddr.js's
 * `range() === 'unicast'`), unless an allowed range contains it.
 */
export function refusalFor(text: string, allow: readonly Cidr[]): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(text.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  } catch {
    return `${text} is not an IP address`;
  }
  const address = unwrap(parsed);
  for (const [range, bits] of allow) {
    if (range.kind() === address.kind() && address.match(range as never, bits)) return null;
  }
  const range = address.range();
  if (range === 'unicast') return null;
  return `${address.toString()} is ${RANGE_NAMES[range] ?? `not a public address (${range})`}`;
}

export class RefusedAddressError extends Error {
  override readonly name = 'RefusedAddressError';
  readonly code = 'EREFUSEDADDRESS';
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A dns.lookup that answers only addresses that pass, for net.connect / tls.connect. */
export function filteringLookup(allow: readonly Cidr[], resolve: typeof dns.lookup = dns.lookup) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions | number, callback: LookupCallback): void => {
    const opts = typeof options === 'number' ? { family: options } : options;
    resolve(hostname, { ...opts, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const list = addresses as LookupAddress[];
      const passed = list.filter((a) => refusalFor(a.address, allow) === null);
      if (passed.length === 0) {
        const why = list.map((a) => refusalFor(a.address, allow)).join('; ');
        return callback(new RefusedAddressError(`refused: ${hostname} resolves only to addresses Intake may not reach (${why})`), '');
      }
      if ((opts as LookupAllOptions).all) return callback(null, passed);
      callback(null, passed[0]!.address, passed[0]!.family);
    });
  };
}

/** An undici Agent whose every connection goes through the filtering lookup. */
export function guardedAgent(allow: readonly Cidr[], options: { connectTimeoutMs?: number } = {}): Agent {
  return new Agent({
    connect: { lookup: filteringLookup(allow) as never, timeout: options.connectTimeoutMs ?? 10_000 },
    keepAliveTimeout: 10_000,
    connections: 64,
  });
}

/** The hostname of a URL when it is an IP literal (brackets removed), else null. */
export function ipLiteralOf(url: URL): string | null {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return ipaddr.isValid(host) ? host : null;
}

/**
 * The save-time check: an IP literal must pass; a name must resolve, and to at least one
 * address that passes (the send-time lookup dials only those). Throws RefusedAddressError.
 */
export async function checkDestination(url: URL, allow: readonly Cidr[], resolve: typeof dns.promises.lookup = dns.promises.lookup): Promise<void> {
  const literal = ipLiteralOf(url);
  if (literal !== null) {
    const why = refusalFor(literal, allow);
    if (why) throw new RefusedAddressError(`refused: ${why}`);
    return;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(url.hostname, { all: true });
  } catch (error) {
    throw new RefusedAddressError(`${url.hostname} does not resolve (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const refusals = addresses.map((a) => refusalFor(a.address, allow));
  if (refusals.every((r) => r !== null)) {
    throw new RefusedAddressError(`refused: ${url.hostname} resolves only to addresses Intake may not reach (${refusals.join('; ')})`);
  }
}
