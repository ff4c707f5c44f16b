// SSRF: no outbound attempt reaches a loopback, private, link-local (cloud metadata), CGNAT,
// multicast or reserved address. Checked on the address dialled: the undici Agent's lookup hands
// the socket only addresses that pass, IP literals are checked before dialling, IPv4-mapped IPv6
// is judged as the IPv4 it carries; redirects are never followed. A receiver on loopback stands
// in for the internal service an attacker would aim at: it must see no request.
import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDestination, filteringLookup, guardedAgent, parseAllowCidrs, refusalFor } from '../core/outboundAddress.ts';
import { sendSigned } from '../worker/outbound/deliver.ts';
import { startReceiver, type TestReceiver } from './support/outbound.ts';

let internal: TestReceiver;
const strict = guardedAgent([]);
const send = (url: string, allow = '') => {
  const allowCidrs = parseAllowCidrs(allow);
  const agent = allow ? guardedAgent(allowCidrs) : strict;
  return sendSigned(url, '{}', { 'content-type': 'application/json' }, { agent, allowCidrs, allowHttp: true, timeoutMs: 3000 })
    .finally(() => (agent === strict ? undefined : agent.close()));
};

beforeAll(async () => {
  internal = await startReceiver();
});
afterAll(async () => {
  await strict.close();
  await internal?.close();
});

describe('at send time, on the address dialled', () => {
  it('refuses 127.0.0.1 before dialling', async () => {
    const sent = await send(`${internal.url}/admin`);
    expect(sent).toMatchObject({ status: null, refused: true, error: 'refused: 127.0.0.1 is a loopback address' });
    expect(internal.requests).toHaveLength(0);
  });

  it('refuses the cloud metadata address 169.254.169.254', async () => {
    const sent = await send('http://169.254.169.254/latest/meta-data/iam/security-credentials/');
    expect(sent).toMatchObject({ refused: true, error: 'refused: 169.254.169.254 is a link-local address (cloud metadata lives here)' });
  });

  it('refuses [::ffff:10.0.0.1], an IPv4-mapped private address', async () => {
    const sent = await send('http://[::ffff:10.0.0.1]/');
    expect(sent).toMatchObject({ refused: true, error: 'refused: 10.0.0.1 is a private address' });
  });

  it('refuses a name that resolves to a private address (localhost → loopback), in the lookup the socket uses', async () => {
    const port = new URL(internal.url).port;
    const sent = await send(`http://localhost:${port}/admin`);
    expect(sent.refused).toBe(true);
    expect(sent.error).toMatch(/^refused: localhost resolves only to addresses Intake may not reach \(.*loopback address/);
    expect(internal.requests).toHaveLength(0);
  });

  it('does not follow a redirect to a private address', async () => {
    const front = await startReceiver();
    try {
      // the front door is allowed (an operator's internal receiver); it redirects to the internal service
      front.answer = () => ({ status: 307, headers: { location: `${internal.url}/admin` } });
      const sent = await send(`${front.url}/hook`, '127.0.0.1/32');
      expect(sent.status).toBe(307);
      expect(front.requests).toHaveLength(1);
      expect(internal.requests).toHaveLength(0);
    } finally {
      await front.close();
    }
  });

  it('reaches loopback only when INTAKE_OUTBOUND_ALLOW_CIDRS allows it', async () => {
    const sent = await send(`${internal.url}/hook`, '127.0.0.0/8');
    expect(sent).toMatchObject({ status: 200, refused: false, error: null });
    expect(internal.requests).toHaveLength(1);
    internal.requests.length = 0;
  });

  it('filters every resolved address, so a name that changes its answer (DNS rebinding) is refused when it turns private', async () => {
    const answers: LookupAddress[][] = [[{ address: '93.184.215.14', family: 4 }], [{ address: '10.0.0.1', family: 4 }, { address: '::ffff:192.168.0.1', family: 6 }]];
    const resolve = ((_host: string, _opts: unknown, cb: (e: null, a: LookupAddress[]) => void) => cb(null, answers.shift()!)) as never;
    const lookup = filteringLookup([], resolve);
    const call = () => new Promise<{ error: Error | null; address: unknown }>((done) =>
      lookup('rebind.example', { all: true }, (error, address) => done({ error, address })));
    expect(await call()).toEqual({ error: null, address: [{ address: '93.184.215.14', family: 4 }] });
    const second = await call();
    expect(second.error?.message).toBe('refused: rebind.example resolves only to addresses Intake may not reach (10.0.0.1 is a private address; 192.168.0.1 is a private address)');
  });

  it('drops the private answers of a name and dials a public one', async () => {
    const resolve = ((_h: string, _o: unknown, cb: (e: null, a: LookupAddress[]) => void) =>
      cb(null, [{ address: '127.0.0.1', family: 4 }, { address: '93.184.215.14', family: 4 }])) as never;
    const lookup = filteringLookup([], resolve);
    const one = await new Promise((done) => lookup('mixed.example', { family: 0 }, (_e, address) => done(address)));
    expect(one).toBe('93.184.215.14');
  });
});

describe('the address rules', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'], ['::1', 'a loopback address'], ['10.1.2.3', 'a private address'],
    ['172.16.0.1', 'a private address'], ['192.168.1.1', 'a private address'], ['169.254.169.254', 'a link-local address (cloud metadata lives here)'],
    ['100.64.0.1', 'a carrier-grade NAT address'], ['100.100.100.200', 'a carrier-grade NAT address'], ['224.0.0.1', 'a multicast address'],
    ['0.0.0.0', 'the unspecified address'], ['255.255.255.255', 'the broadcast address'], ['fd00:ec2::254', 'a unique-local (private) address'],
    ['fe80::1', 'a link-local address (cloud metadata lives here)'], ['::ffff:127.0.0.1', 'a loopback address'], ['240.0.0.1', 'a reserved address'],
  ])('refuses %s as %s', (address, why) => {
    expect(refusalFor(address, [])).toMatch(new RegExp(`is ${why.replace(/[()]/g, '\\$&')}$`));
  });

  it.each(['93.184.215.14', '2606:2800:220:1:248:1893:25c8:1946', '1.1.1.1'])('allows the public address %s', (address) => {
    expect(refusalFor(address, [])).toBeNull();
  });

  it('checks at save time too: a literal, and a name by what it resolves to', async () => {
    await expect(checkDestination(new URL('https://169.254.169.254/'), [])).rejects.toThrow('refused: 169.254.169.254 is a link-local address');
    await expect(checkDestination(new URL('https://localhost/'), [])).rejects.toThrow(/^refused: localhost resolves only to/);
    await expect(checkDestination(new URL('https://no-such-host.invalid/'), [])).rejects.toThrow(/does not resolve/);
    await expect(checkDestination(new URL('https://93.184.215.14/'), [])).resolves.toBeUndefined();
    await expect(checkDestination(new URL('https://localhost/'), parseAllowCidrs('127.0.0.0/8,::1'))).resolves.toBeUndefined();
  });

  it('refuses a malformed INTAKE_OUTBOUND_ALLOW_CIDRS clearly', () => {
    expect(() => parseAllowCidrs('10.0.0.0/8, nonsense')).toThrow('INTAKE_OUTBOUND_ALLOW_CIDRS: "nonsense" is not an address or CIDR range');
  });
});
