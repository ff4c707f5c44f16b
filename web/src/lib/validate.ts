// Checks the dialog runs while the admin types, so most mistakes show before Save. They mirror
// core/webhookConfig.ts; the server validates again with the real schema and has the last word.
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$/;
export const RESERVED_SLUGS = [
  'ninjaone', 'tactical_rmm', 'tactical-rmm', 'tacticalrmm', 'tanium', 'xero', 'qbo', 'quickbooks',
  'entra', 'microsoft_graph', 'microsoft-graph', 'google', 'intake', 'webhook', 'api', 'admin',
];

export type SlugProblem = 'empty' | 'tooLong' | 'pattern' | 'reserved' | null;

export function slugProblem(slug: string): SlugProblem {
  if (slug === '') return 'empty';
  if (slug.length > 63) return 'tooLong';
  if (!SLUG_PATTERN.test(slug)) return 'pattern';
  if (RESERVED_SLUGS.includes(slug)) return 'reserved';
  return null;
}

/** A slug suggestion from a name: "ConnectWise Alerts" → "connectwise-alerts". */
export function slugFromName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255 && (p === '0' || !p.startsWith('0')));
}

function isIPv6(text: string): boolean {
  if (!text.includes(':') || !/^[0-9a-fA-F:.]+$/.test(text)) return false;
  try {
    return new URL(`http://[${text}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** An IPv4/IPv6 address or CIDR, as the server's parseCidr accepts. */
export function isCidr(value: string): boolean {
  const [address = '', prefix, ...rest] = value.trim().split('/');
  if (rest.length > 0) return false;
  const v4 = isIPv4(address);
  if (!v4 && !isIPv6(address)) return false;
  if (prefix === undefined) return true;
  return /^\d+$/.test(prefix) && Number(prefix) <= (v4 ? 32 : 128);
}

/** The 1-based numbers of the lines that are not a CIDR (blank lines are ignored). */
export function badCidrLines(text: string): number[] {
  return text
    .split('\n')
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line !== '' && !isCidr(line))
    .map(({ number }) => number);
}

export function cidrList(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

export const HEADER_PATTERN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
