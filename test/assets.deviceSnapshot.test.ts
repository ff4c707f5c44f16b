// The device-snapshot normalizer, pure (no database): the documented NinjaOne and Tactical RMM
// mappings (docs/device-mappings.json, evaluated verbatim) over the real sample payloads; one
// machine described by two payload shapes normalizing to one snapshot; the individual rules.
// Every expected value below was read off the sample files by hand, not produced by the code.
import { readFileSync } from 'node:fs';
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import {
  isDeviceShaped,
  normalizeDeviceSnapshot,
  sanitizeText,
  type NormalizedDeviceSnapshot,
} from '../worker/actions/assets/deviceSnapshot.ts';

const read = (url: URL) => readFileSync(url, 'utf8');
const sample = (name: string) => JSON.parse(read(new URL(`./fixtures/samples/${name}`, import.meta.url))) as Record<string, any>;
const docsText = read(new URL('../docs/device-snapshot.md', import.meta.url));

interface DocumentedMapping {
  sample: string;
  mapping: Record<string, string>;
}
const mappings = JSON.parse(read(new URL('../docs/device-mappings.json', import.meta.url))) as Record<string, DocumentedMapping>;
const ninjaMapping = mappings['ninjaone-device-detail']!;
const tacticalMapping = mappings['tacticalrmm-agent-detail']!;

/** Evaluates each field's expression on its own, as the worker does; undefined results are left out. */
async function mapValues(mapping: Record<string, string>, body: unknown): Promise<Record<string, unknown>> {
  const values: Record<string, unknown> = {};
  for (const [field, expression] of Object.entries(mapping)) {
    const value = await jsonata(expression).evaluate(body);
    if (value !== undefined) values[field] = value;
  }
  return values;
}

/** The `| `field` | `expression` |` rows under the `### <heading>` section of the docs. */
function docTable(heading: string): Record<string, string> {
  const section = docsText.split(/^### /m).find((s) => s.startsWith(heading));
  if (!section) throw new Error(`no section "${heading}" in docs/device-snapshot.md`);
  const rows: Record<string, string> = {};
  for (const line of section.split('\n')) {
    const m = /^\| `([a-z_]+)` \| `(.+)` \|$/.exec(line.trim());
    if (m) rows[m[1]!] = m[2]!;
  }
  return rows;
}

const blank: NormalizedDeviceSnapshot = {
  hostname: null, serial_number: null, os_name: null, os_version: null, manufacturer: null, model: null,
  ip_addresses: [], mac_addresses: [], cpu_model: null, cpu_cores: null, ram_gb: null, disk_total_gb: null,
  disk_free_gb: null, logged_in_user: null, agent_status: 'unknown', last_seen_at: null, asset_type: 'unknown',
};

describe('documented mappings over the real samples', () => {
  it('the docs show exactly the mappings stored in docs/device-mappings.json', () => {
    expect(ninjaMapping.sample).toBe('ninjaone-device.detail.json');
    expect(tacticalMapping.sample).toBe('tacticalrmm-agent.detail.json');
    expect(docTable('NinjaOne device detail')).toEqual(ninjaMapping.mapping);
    expect(docTable('Tactical RMM agent detail')).toEqual(tacticalMapping.mapping);
    expect(docsText).toContain('](device-mappings.json)');
  });

  it('NinjaOne device detail normalizes to the snapshot read off the sample', async () => {
    const values = await mapValues(ninjaMapping.mapping, sample(ninjaMapping.sample));
    expect(values.external_id).toBe('192');
    expect(isDeviceShaped(values)).toBe(true);
    expect(normalizeDeviceSnapshot(values)).toEqual({
      hostname: 'hyperv1',
      serial_number: null, // "Chassis Serial Number" is a firmware placeholder
      os_name: 'Windows Server 2012 R2',
      os_version: '9600',
      manufacturer: null, // "System manufacturer"
      model: null, // "System Product Name"
      ip_addresses: ['192.168.30.77', 'fe80::dc87:d522:60ff:7e7'],
      mac_addresses: ['08:60:6e:46:c7:4d'],
      cpu_model: 'Intel(R) Core(TM) i5-3570K CPU @ 3.40GHz',
      cpu_cores: 4,
      ram_gb: 31.7, // 34033238016 B / 2^30 = 31.696
      disk_total_gb: 2082.1, // (2116208812032 + 119479988224) B / 2^30 = 2082.147
      disk_free_gb: 469.5, // (456130174976 + 47971688448) B / 2^30 = 469.481
      logged_in_user: 'CORP\\Administratör',
      agent_status: 'online', // offline: false
      last_seen_at: new Date('2021-05-11T19:09:02.950Z'), // lastContact 1620760142.95
      asset_type: 'server', // nodeClass WINDOWS_SERVER, chassisType DESKTOP
    });
  });

  it('Tactical RMM agent detail normalizes to the snapshot read off the sample', async () => {
    const values = await mapValues(tacticalMapping.mapping, sample(tacticalMapping.sample));
    expect(values.external_id).toBe('IcAhWvOHlADwjuYmndAkjbJuhSdWvWjtvYcYjCZk');
    expect(isDeviceShaped(values)).toBe(true);
    expect(normalizeDeviceSnapshot(values)).toEqual({
      hostname: 'vnvmhostsrv4',
      serial_number: 'ABCD123456',
      os_name: 'Windows Server 2019 Standard',
      os_version: '17763',
      manufacturer: 'HP',
      model: 'ProLiant DL380 Gen9',
      ip_addresses: ['172.17.9.121', '172.17.9.6', '172.17.9.122'],
      mac_addresses: ['3c:a8:2a:e6:27:c8'],
      cpu_model: 'Intel(R) Xeon(R) CPU E5-2620 v4 @ 2.10GHz',
      cpu_cores: 16, // two sockets of "8C/16T"
      ram_gb: 192,
      disk_total_gb: 2308.5, // 465.3G + 1.8T (1843.2G)
      disk_free_gb: 1088.5, // 343.3G + 745.2G
      logged_in_user: 'jsmith', // logged_in_username is the literal "None"
      agent_status: 'online',
      last_seen_at: new Date('2026-05-11T14:01:52.114Z'),
      asset_type: 'server', // monitoring_type "server"
    });
  });
});

describe('one machine, two payload shapes', () => {
  const expected: NormalizedDeviceSnapshot = {
    hostname: 'desktop-abc',
    serial_number: '5CG1234XYZ',
    os_name: 'Windows 11 Pro',
    os_version: '22631',
    manufacturer: 'HP',
    model: 'EliteDesk 800 G6',
    ip_addresses: ['10.0.0.5', '192.168.56.1'],
    mac_addresses: ['aa:bb:cc:dd:ee:ff'],
    cpu_model: 'Intel(R) Core(TM) i7-10700 CPU @ 2.90GHz',
    cpu_cores: 8,
    ram_gb: 16,
    disk_total_gb: 476.9,
    disk_free_gb: 200,
    logged_in_user: 'jdoe',
    agent_status: 'online',
    last_seen_at: new Date('2024-05-11T14:01:52.500Z'),
    asset_type: 'workstation',
  };

  it('mapped values written differently normalize to the same snapshot', () => {
    const ninjaLike = {
      external_id: '1001',
      hostname: 'DESKTOP-ABC',
      serial_number: ' 5CG1234XYZ ',
      os_name: 'Windows 11 Pro',
      os_version: '22631',
      manufacturer: 'HP',
      model: 'EliteDesk 800 G6',
      ip_addresses: ['10.0.0.5', '192.168.56.1'],
      mac_addresses: ['AA-BB-CC-DD-EE-FF'],
      cpu_model: 'Intel(R) Core(TM) i7-10700 CPU @ 2.90GHz',
      cpu_cores: 8,
      ram: '16 GB',
      disk_total: [512110190592], // bytes: 476.94 GiB
      disk_free: [214748364800], // bytes: 200 GiB
      logged_in_user: 'jdoe',
      agent_status: 'ONLINE',
      last_seen: 1715436112.5, // epoch seconds
      device_type: 'WINDOWS_WORKSTATION',
    };
    const tacticalLike = {
      external_id: 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCd',
      hostname: '  desktop-abc ',
      serial_number: '5CG1234XYZ',
      os_name: 'Microsoft Windows 11 Pro, 64bit (build 22631)',
      manufacturer: 'Hewlett-Packard',
      model: 'EliteDesk 800 G6',
      ip_addresses: '10.0.0.5, 192.168.56.1, 127.0.0.1',
      mac_addresses: 'aabb.ccdd.eeff',
      cpu_model: 'Intel(R) Core(TM) i7-10700 CPU @ 2.90GHz',
      cpu_cores: '8',
      ram: 17179869184, // bytes
      disk_total: '476.9G',
      disk_free: '200.0G',
      logged_in_user: 'jdoe',
      agent_status: 'Connected',
      last_seen: '2024-05-11T14:01:52.500000Z',
      device_type: 'workstation',
    };
    const a = normalizeDeviceSnapshot(ninjaLike);
    const b = normalizeDeviceSnapshot(tacticalLike);
    expect(a).toEqual(expected);
    expect(b).toEqual(expected);
  });

  it('NinjaOne- and Tactical-shaped bodies through the documented mappings give the same snapshot', async () => {
    const ninjaBody = {
      id: 1001,
      nodeClass: 'WINDOWS_WORKSTATION',
      offline: false,
      systemName: 'DESKTOP-ABC',
      dnsName: 'DESKTOP-ABC.acme.example',
      lastContact: 1715436112.5,
      ipAddresses: ['10.0.0.5', '192.168.56.1', '::1'],
      macAddresses: ['AA:BB:CC:DD:EE:FF', '00:00:00:00:00:00'],
      os: { name: 'Windows 11 Pro', buildNumber: '22631', releaseId: '23H2' },
      system: { manufacturer: 'HP', model: 'EliteDesk 800 G6', serialNumber: '5CG1234XYZ', chassisType: 'DESKTOP' },
      memory: { capacity: 17179869184 },
      processors: [{ name: 'Intel(R) Core(TM) i7-10700 CPU @ 2.90GHz', numCores: 8 }],
      volumes: [{ name: 'C:', capacity: 512110190592, freeSpace: 214748364800 }],
      lastLoggedInUser: 'jdoe',
    };
    const tacticalBody = {
      agent_id: 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCd',
      hostname: 'desktop-abc',
      operating_system: 'Microsoft Windows 11 Pro, 64bit (build 22631)',
      last_seen: '2024-05-11T14:01:52.500000Z',
      status: 'online',
      monitoring_type: 'workstation',
      total_ram: 16,
      disks: [{ device: 'C:', total: '476.9G', free: '200.0G' }],
      logged_in_username: 'None',
      last_logged_in_user: 'jdoe',
      serial_number: '5CG1234XYZ',
      local_ips: '10.0.0.5, 192.168.56.1',
      cpu_model: ['Intel(R) Core(TM) i7-10700 CPU @ 2.90GHz, 8C/16T'],
      wmi_detail: {
        comp_sys: [[{ Manufacturer: 'Hewlett-Packard', Model: 'EliteDesk 800 G6' }]],
        network_adapter: [[{ MACAddress: 'aa:bb:cc:dd:ee:ff' }], [{ MACAddress: null }]],
      },
    };
    const ninja = await mapValues(ninjaMapping.mapping, ninjaBody);
    const tactical = await mapValues(tacticalMapping.mapping, tacticalBody);
    expect(ninja.external_id).toBe('1001');
    expect(tactical.external_id).toBe('AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCd');
    expect(normalizeDeviceSnapshot(ninja)).toEqual(expected);
    expect(normalizeDeviceSnapshot(tactical)).toEqual(expected);
  });
});

describe('normalization rules', () => {
  it('vendor placeholders become null', () => {
    for (const serial of ['To Be Filled By O.E.M.', 'Default string', '0', 'None', 'System Serial Number', '123456789', 'Chassis Serial Number', '000000000', '  ']) {
      expect(normalizeDeviceSnapshot({ serial_number: serial }).serial_number, serial).toBeNull();
    }
    expect(normalizeDeviceSnapshot({ serial_number: 0 }).serial_number).toBeNull();
    const s = normalizeDeviceSnapshot({ manufacturer: 'System manufacturer', model: 'To Be Filled By O.E.M.', serial_number: 'CZ1234ABCD' });
    expect([s.manufacturer, s.model, s.serial_number]).toEqual([null, null, 'CZ1234ABCD']);
    expect(normalizeDeviceSnapshot({ logged_in_user: 'None', hostname: 'null' })).toEqual(blank);
  });

  it('invalid, loopback and duplicate IPs are dropped, order kept', () => {
    const s = normalizeDeviceSnapshot({
      ip_addresses: ['10.1.2.3', '999.1.1.1', 'not-an-ip', '127.0.0.1', '127.8.9.10', '::1', '0.0.0.0', 'FE80::1', '10.1.2.3', '192.168.0.7/24', '', 42, null, ['172.16.0.9']],
    });
    expect(s.ip_addresses).toEqual(['10.1.2.3', 'fe80::1', '192.168.0.7', '172.16.0.9']);
    expect(normalizeDeviceSnapshot({ ip_addresses: '10.0.0.1 10.0.0.2;10.0.0.300,2001:db8::5' }).ip_addresses).toEqual(['10.0.0.1', '10.0.0.2', '2001:db8::5']);
    expect(normalizeDeviceSnapshot({ ip_addresses: { ip: '10.0.0.1' } }).ip_addresses).toEqual([]);
  });

  it('MACs in every notation become lower-case colon form; zero, broadcast and junk dropped', () => {
    const s = normalizeDeviceSnapshot({
      mac_addresses: ['AA-BB-CC-DD-EE-FF', 'aabb.ccdd.eeff', 'AABBCCDDEEFF', '00:11:22:33:44:55', '00-00-00-00-00-00', 'FF:FF:FF:FF:FF:FF', '00:11:22:33:44', 'zz:11:22:33:44:55'],
    });
    expect(s.mac_addresses).toEqual(['aa:bb:cc:dd:ee:ff', '00:11:22:33:44:55']);
  });

  it('combined OS strings are split into name and version', () => {
    const os = (os_name: string, os_version?: string) => {
      const s = normalizeDeviceSnapshot({ os_name, os_version });
      return [s.os_name, s.os_version];
    };
    expect(os('Microsoft Windows 11 Pro 23H2')).toEqual(['Windows 11 Pro', '23H2']);
    expect(os('Ubuntu 22.04.3 LTS')).toEqual(['Ubuntu', '22.04.3 LTS']);
    expect(os('Microsoft Windows Server 2019 Standard, 64bit (build 17763)')).toEqual(['Windows Server 2019 Standard', '17763']);
    expect(os('Windows Server 2012 R2')).toEqual(['Windows Server 2012 R2', null]);
    expect(os('Windows 10 Pro Version 1809')).toEqual(['Windows 10 Pro', '1809']);
    expect(os('Debian GNU/Linux 12 (bookworm)')).toEqual(['Debian GNU/Linux', '12 (bookworm)']);
    expect(os('macOS 14.4.1')).toEqual(['macOS', '14.4.1']);
    expect(os('Ubuntu 22.04.3 LTS', '22.04')).toEqual(['Ubuntu', '22.04']);
    expect(os('Microsoft Windows 11 Pro', '10.0.22631')).toEqual(['Windows 11 Pro', '10.0.22631']);
  });

  it('manufacturers are canonicalized', () => {
    const cases: [string, string][] = [
      ['Dell Inc.', 'Dell'], ['HP', 'HP'], ['Hewlett-Packard', 'HP'], ['LENOVO', 'Lenovo'], ['VMware, Inc.', 'VMware'],
      ['Microsoft Corporation', 'Microsoft'], ['Hewlett Packard Enterprise', 'HPE'], ['ASUSTeK COMPUTER INC.', 'ASUS'],
      ['Acme Widgets, Inc.', 'Acme Widgets'], ['QEMU', 'QEMU'],
    ];
    for (const [raw, canonical] of cases) expect(normalizeDeviceSnapshot({ manufacturer: raw }).manufacturer, raw).toBe(canonical);
  });

  it('RAM and disk sizes in bytes, MB, GB or with units become GB to one decimal', () => {
    const ram = (value: unknown) => normalizeDeviceSnapshot({ ram: value }).ram_gb;
    expect([ram('16 GB'), ram('16384 MB'), ram('17179869184'), ram(17179869184), ram(16384), ram(16), ram('16GiB'), ram('16777216 KB')]).toEqual([16, 16, 16, 16, 16, 16, 16, 16]);
    expect([ram(8.5), ram('7.8G'), ram('lots'), ram(-4), ram(true), ram(undefined)]).toEqual([8.5, 7.8, null, null, null, null]);
    const disks = normalizeDeviceSnapshot({ disk_total: ['465.3G', '1.8T'], disk_free: 2000, ram: '1 TB' });
    expect([disks.disk_total_gb, disks.disk_free_gb, disks.ram_gb]).toEqual([2308.5, 2000, 1024]);
    expect(normalizeDeviceSnapshot({ disk_total: 512000 }).disk_total_gb).toBe(500); // MB by magnitude
  });

  it('agent status synonyms, case-insensitive', () => {
    const status = (value: unknown) => normalizeDeviceSnapshot({ agent_status: value }).agent_status;
    for (const v of ['online', 'UP', 'Connected', 'true', '1', true, 1]) expect(status(v), String(v)).toBe('online');
    for (const v of ['OFFLINE', 'down', 'Disconnected', 'false', '0', false, 0, 'overdue']) expect(status(v), String(v)).toBe('offline');
    for (const v of ['maybe', 'constructor', undefined, null, 2]) expect(status(v), String(v)).toBe('unknown');
  });

  it('last seen from ISO, epoch seconds, epoch milliseconds or a Date', () => {
    const seen = (value: unknown) => normalizeDeviceSnapshot({ last_seen: value }).last_seen_at;
    const at = new Date('2024-05-11T14:01:52.000Z');
    expect(seen('2024-05-11T14:01:52Z')).toEqual(at);
    expect(seen(1715436112)).toEqual(at);
    expect(seen(1715436112000)).toEqual(at);
    expect(seen('1715436112')).toEqual(at);
    expect(seen(at)).toEqual(at);
    expect(seen('last tuesday')).toBeNull();
  });

  it('asset type from device_type / asset_type hints, else a server OS', () => {
    const type = (values: Record<string, unknown>) => normalizeDeviceSnapshot(values).asset_type;
    expect(type({ device_type: 'WINDOWS_WORKSTATION' })).toBe('workstation');
    expect(type({ device_type: 'WINDOWS_SERVER' })).toBe('server');
    expect(type({ device_type: 'LINUX_SERVER' })).toBe('server');
    expect(type({ asset_type: 'server' })).toBe('server');
    expect(type({ asset_type: 'workstation' })).toBe('workstation');
    expect(type({ device_type: 'laptop' })).toBe('laptop');
    expect(type({ device_type: 'NMS_SWITCH' })).toBe('network');
    expect(type({ device_type: 'MAC' })).toBe('workstation');
    expect(type({ os_name: 'Microsoft Windows Server 2022 Datacenter' })).toBe('server');
    expect(type({ os_name: 'Windows 11 Pro' })).toBe('unknown');
    expect(type({ device_type: 'CLOUD_MONITOR_TARGET' })).toBe('unknown');
  });

  it('hostname is lower-cased and trimmed; an FQDN is kept whole', () => {
    expect(normalizeDeviceSnapshot({ hostname: '  HyperV1.Corp.Example.com\n' }).hostname).toBe('hyperv1.corp.example.com');
    expect(normalizeDeviceSnapshot({ hostname: ['DESKTOP-ABC', 'other'] }).hostname).toBe('desktop-abc');
  });

  it('sanitizeText trims, flattens control characters and caps the length', () => {
    expect(sanitizeText('  a\tb\u0000\nc  ')).toBe('a b c');
    expect(sanitizeText('   ')).toBeNull();
    expect(sanitizeText(42)).toBe('42');
    expect(sanitizeText({ a: 1 })).toBeNull();
    expect(sanitizeText('x'.repeat(600))).toHaveLength(500);
    expect(sanitizeText('abcdef', 3)).toBe('abc');
  });
});

describe('isDeviceShaped', () => {
  it('true for a flag or an identifying device field', () => {
    expect(isDeviceShaped({ device_snapshot: true })).toBe(true);
    expect(isDeviceShaped({ is_device: 'true' })).toBe(true);
    expect(isDeviceShaped({ is_device: 1 })).toBe(true);
    expect(isDeviceShaped({ hostname: 'srv01' })).toBe(true);
    expect(isDeviceShaped({ serial_number: 'CZ1234ABCD' })).toBe(true);
    expect(isDeviceShaped({ os_name: 'Ubuntu 22.04.3 LTS' })).toBe(true);
    expect(isDeviceShaped({ agent_id: 'IcAhWvOHlADwjuYmndAkjbJuhSdWvWjtvYcYjCZk' })).toBe(true);
    expect(isDeviceShaped({ is_device: false, hostname: 'srv01' })).toBe(true);
  });

  it('false without a flag or an identifying field, or when they are empty', () => {
    expect(isDeviceShaped({})).toBe(false);
    expect(isDeviceShaped({ device_snapshot: false, is_device: 'false' })).toBe(false);
    expect(isDeviceShaped({ is_device: 0, hostname: null, serial_number: '  ', os_name: undefined })).toBe(false);
    expect(isDeviceShaped({ external_id: '12', name: 'Client Portal', ip_addresses: ['192.0.2.15'] })).toBe(false);
  });

  it('decides on values mapped from the other real samples', async () => {
    // Zabbix problem event: the host is a device.
    expect(isDeviceShaped(await mapValues({ external_id: '$string(host_id)', hostname: 'host_host', ip_addresses: 'host_ip' }, sample('zabbix-problem.eda-webhook.json')))).toBe(true);
    // Uptime Kuma HTTP monitor: monitor.hostname is null, so a URL monitor is a plain asset.
    expect(isDeviceShaped(await mapValues({ external_id: '$string(monitor.id)', name: 'monitor.name', hostname: 'monitor.hostname' }, sample('uptimekuma-monitor.down.json')))).toBe(false);
    // NinjaOne condition: only a device id, no device fields (absent `device` is omitted, not null).
    expect(isDeviceShaped(await mapValues({ external_id: '$string(deviceId)', hostname: 'device.systemName' }, sample('ninjaone-condition.triggered.json')))).toBe(false);
  });
});
