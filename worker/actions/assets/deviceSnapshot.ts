// The RMM device normalizer: every device-shaped asset upsert (NinjaOne, Tactical RMM, anything
// mapped into the same field names) is written from one NormalizedDeviceSnapshot, so the same
// machine described by two senders becomes the same record. Pure: no database, no clock.
// The shape and the rules are documented in docs/device-snapshot.md.
import { isIP } from 'node:net';
import { parseDatetime } from '../fields.ts';

export interface NormalizedDeviceSnapshot {
  hostname: string | null;
  serial_number: string | null;
  os_name: string | null;
  os_version: string | null;
  manufacturer: string | null;
  model: string | null;
  ip_addresses: string[];
  mac_addresses: string[];
  cpu_model: string | null;
  cpu_cores: number | null;
  ram_gb: number | null;
  disk_total_gb: number | null;
  disk_free_gb: number | null;
  logged_in_user: string | null;
  agent_status: 'online' | 'offline' | 'unknown';
  last_seen_at: Date | null;
  asset_type: 'workstation' | 'server' | 'laptop' | 'network' | 'unknown';
}

/** Text a sender writes when it has nothing to say (compared lower-cased). */
const NULLISH = new Set(['', 'none', 'null', 'undefined', 'n/a', 'na', '-', 'unknown']);
/** Firmware/vendor placeholders for serial numbers, manufacturers and models (lower-cased). */
const PLACEHOLDERS = new Set([
  'to be filled by o.e.m.', 'to be filled by oem', 'default string', 'o.e.m.', 'oem', '0', '123456789',
  '0123456789', '1234567890', 'system serial number', 'chassis serial number', 'base board serial number',
  'serial number', 'system manufacturer', 'system product name', 'system version', 'not specified',
  'not applicable', 'not available', 'invalid', 'empty',
]);

const FLAG_TRUE = new Set(['true', '1', 'yes', 'y', 'on']);
const STATUS = new Map<string, 'online' | 'offline'>([
  ...['online', 'up', 'connected', 'true', '1', 'yes'].map((k) => [k, 'online'] as const),
  ...['offline', 'down', 'disconnected', 'false', '0', 'no', 'overdue'].map((k) => [k, 'offline'] as const),
]);

const MANUFACTURERS: [RegExp, string][] = [
  [/^dell\b/i, 'Dell'],
  [/^(hewlett[- ]?packard enterprise|hpe)\b/i, 'HPE'],
  [/^(hp|hewlett[- ]?packard)\b/i, 'HP'],
  [/^lenovo\b/i, 'Lenovo'],
  [/^vmware\b/i, 'VMware'],
  [/^microsoft\b/i, 'Microsoft'],
  [/^apple\b/i, 'Apple'],
  [/^asus(tek)?\b/i, 'ASUS'],
  [/^acer\b/i, 'Acer'],
  [/^fujitsu\b/i, 'Fujitsu'],
  [/^super ?micro\b/i, 'Supermicro'],
  [/^intel\b/i, 'Intel'],
  [/^gigabyte\b/i, 'Gigabyte'],
  [/^cisco\b/i, 'Cisco'],
];
const CORPORATE_SUFFIX = /[\s,]+(inc\.?|incorporated|corporation|corp\.?|co\.?,?\s*ltd\.?|ltd\.?|limited|gmbh|llc|s\.?a\.?)$/i;

const GIB = 1024 ** 3;
const UNIT_BYTES: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: GIB, t: 1024 ** 4, p: 1024 ** 5 };

/** A single line of text: control characters and runs of whitespace become one space; empty → null. */
export function sanitizeText(value: unknown, max = 500): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string') return null;
  const text = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(/\s+/g, ' ').trim();
  return text === '' ? null : text.slice(0, max);
}

/** The first usable element when a mapping produced an array for a single-valued field. */
function single(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.find((v) => v !== null && v !== undefined && v !== '');
}

function text(value: unknown, max = 255): string | null {
  const t = sanitizeText(single(value), max);
  return t === null || NULLISH.has(t.toLowerCase()) ? null : t;
}

function notPlaceholder(value: string | null): string | null {
  if (value === null || PLACEHOLDERS.has(value.toLowerCase())) return null;
  return /^(0+|x+|\.+)$/i.test(value) ? null : value;
}

function present(value: unknown): boolean {
  return text(value) !== null;
}

function flag(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  return typeof value === 'string' && FLAG_TRUE.has(value.trim().toLowerCase());
}

/** True when the mapped values describe a device: an explicit flag, or a device identifying field. */
export function isDeviceShaped(values: Record<string, unknown>): boolean {
  if (flag(values.device_snapshot) || flag(values.is_device)) return true;
  return ['hostname', 'serial_number', 'os_name', 'agent_id'].some((name) => present(values[name]));
}

/** A list field: an array (nested arrays flattened) or one string split on commas, semicolons, spaces. */
function list(value: unknown): string[] {
  const items = Array.isArray(value) ? value.flat(3) : [value];
  return items.flatMap((item) => (typeof item === 'string' ? item.split(/[\s,;]+/) : [])).filter((s) => s !== '');
}

function normalizeIps(value: unknown): string[] {
  const out: string[] = [];
  for (const raw of list(value)) {
    const ip = raw.replace(/\/\d{1,3}$/, '').toLowerCase();
    const version = isIP(ip);
    if (version === 0) continue;
    if (version === 4 && (ip.startsWith('127.') || ip === '0.0.0.0')) continue;
    if (version === 6 && /^(::1?|(0{1,4}:){7}0{0,3}[01])$/.test(ip)) continue;
    if (!out.includes(ip)) out.push(ip);
  }
  return out;
}

function normalizeMacs(value: unknown): string[] {
  const out: string[] = [];
  for (const raw of list(value)) {
    const hex = raw.replace(/[-:.]/g, '').toLowerCase();
    if (!/^[0-9a-f]{12}$/.test(hex) || /^(0{12}|f{12})$/.test(hex)) continue;
    const mac = hex.match(/../g)!.join(':');
    if (!out.includes(mac)) out.push(mac);
  }
  return out;
}

/**
 * A size in GiB ("GB" here), rounded to one decimal. Strings may carry a unit (B, K/KB/KiB, M/MB,
 * G/GB, T/TB, P/PB, all 1024-based); bare numbers are read by magnitude: ≥ 2^28 bytes, ≥
 * `mbFrom` MB, else GB. An array is summed (several disks or volumes).
 */
function sizeGb(value: unknown, mbFrom: number): number | null {
  const parts = (Array.isArray(value) ? value.flat(3) : [value]).map((v) => rawGb(v, mbFrom)).filter((v) => v !== null);
  return parts.length === 0 ? null : round1(parts.reduce((a, b) => a + b, 0));
}

function rawGb(value: unknown, mbFrom: number): number | null {
  let n: number;
  let unit: string | undefined;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(bytes?|[kmgtp]?i?b|[kmgtp])?\s*$/i.exec(value);
    if (!m) return null;
    n = Number(m[1]);
    unit = m[2]?.toLowerCase();
  } else return null;
  if (!Number.isFinite(n) || n < 0) return null;
  if (unit !== undefined) return (n * (UNIT_BYTES[unit.startsWith('byte') ? 'b' : unit[0]!] ?? 1)) / GIB;
  if (n >= 2 ** 28) return n / GIB;
  return n >= mbFrom ? n / 1024 : n;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function cores(value: unknown): number | null {
  const items = Array.isArray(value) ? value.flat(3) : [value];
  let total = 0;
  for (const item of items) {
    const n = typeof item === 'string' && item.trim() !== '' ? Number(item) : item;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return null;
    total += n;
  }
  return total > 0 ? total : null;
}

function agentStatus(value: unknown): NormalizedDeviceSnapshot['agent_status'] {
  const key = typeof value === 'string' ? value.trim().toLowerCase() : typeof value === 'boolean' || typeof value === 'number' ? String(value) : '';
  return STATUS.get(key) ?? 'unknown';
}

function lastSeen(value: unknown): Date | null {
  const v = single(value);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v;
  return parseDatetime(v);
}

function canonicalManufacturer(value: string | null): string | null {
  if (value === null) return null;
  for (const [pattern, name] of MANUFACTURERS) if (pattern.test(value)) return name;
  return value.replace(CORPORATE_SUFFIX, '').trim() || null;
}

/**
 * Splits a combined OS string. Windows: a leading "Microsoft", an architecture ("64bit") and
 * "(build N)" are dropped; a trailing feature release ("23H2", "Version 1809") is the version,
 * else the build. Others: the name ends before the first word starting with a digit.
 */
function splitOs(raw: string): { name: string; version: string | null } {
  const build = /\(?\bbuild\s+([\w.-]+)\)?/i.exec(raw)?.[1] ?? null;
  const clean = raw
    .replace(/^microsoft\s+/i, '')
    .replace(/\(?\bbuild\s+[\w.-]+\)?/i, '')
    .replace(/,?\s*\b(x?64|x86|32)[- ]?bits?\b/gi, '')
    .replace(/[\s,]+$/, '')
    .trim();
  if (/^windows\b/i.test(clean)) {
    const m = /^(.*?)\s+(?:version\s+(\S+)|(\d{2}H\d))$/i.exec(clean);
    if (m) return { name: m[1]!, version: m[2] ?? m[3]! };
    return { name: clean, version: build };
  }
  const m = /^(.*?\D)\s+(\d.*)$/.exec(clean);
  return m ? { name: m[1]!, version: m[2]! } : { name: clean, version: null };
}

function assetType(hint: string | null, osName: string | null): NormalizedDeviceSnapshot['asset_type'] {
  const h = (hint ?? '').toUpperCase();
  if (/SERVER|VM_HOST|HYPERVISOR/.test(h)) return 'server';
  if (/LAPTOP|NOTEBOOK|PORTABLE/.test(h)) return 'laptop';
  if (/WORKSTATION|DESKTOP|^MAC$|^PC$/.test(h)) return 'workstation';
  if (/NMS|NETWORK|SWITCH|ROUTER|FIREWALL|GATEWAY|ACCESS_?POINT|^WAP$/.test(h)) return 'network';
  if (h === '' && osName !== null && /\bserver\b/i.test(osName)) return 'server';
  return 'unknown';
}

/** The one snapshot every device upsert is written from, built from the mapped values. */
export function normalizeDeviceSnapshot(input: Record<string, unknown>): NormalizedDeviceSnapshot {
  const hostname = text(input.hostname)?.toLowerCase() ?? null;
  const rawOs = text(input.os_name);
  const os = rawOs === null ? null : splitOs(rawOs);
  const osName = os?.name || null;
  return {
    hostname,
    serial_number: notPlaceholder(text(input.serial_number)),
    os_name: osName,
    os_version: text(input.os_version) ?? os?.version ?? null,
    manufacturer: canonicalManufacturer(notPlaceholder(text(input.manufacturer))),
    model: notPlaceholder(text(input.model)),
    ip_addresses: normalizeIps(input.ip_addresses),
    mac_addresses: normalizeMacs(input.mac_addresses),
    cpu_model: text(input.cpu_model),
    cpu_cores: cores(input.cpu_cores),
    ram_gb: sizeGb(input.ram, 1024),
    disk_total_gb: sizeGb(input.disk_total, 100_000),
    disk_free_gb: sizeGb(input.disk_free, 100_000),
    logged_in_user: text(input.logged_in_user),
    agent_status: agentStatus(single(input.agent_status)),
    last_seen_at: lastSeen(input.last_seen),
    asset_type: assetType(text(input.device_type) ?? text(input.asset_type), osName),
  };
}
