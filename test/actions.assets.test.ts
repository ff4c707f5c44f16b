// upsertAssetByExternalId end to end (signed request in, rows out). Device payloads use the
// documented mappings (docs/device-mappings.json) over the real NinjaOne and Tactical RMM
// samples; one machine described by both shapes through two namespaces becomes ONE asset (matched
// by serial number, then by hostname); a non-device asset takes a plain upsert; validation
// failures and lookup misses fail the delivery and write nothing.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionWebhook, deliver } from './support/inbound.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant, startTestServer, type TestServer } from './support/server.ts';

const TENANT = 'rmm-msp';
const sample = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/samples/${name}`, import.meta.url), 'utf8')) as Record<string, any>;
const documented = JSON.parse(readFileSync(new URL('../docs/device-mappings.json', import.meta.url), 'utf8')) as Record<string, { sample: string; mapping: Record<string, string> }>;
const ninjaMapping = documented['ninjaone-device-detail']!.mapping;
const tacticalMapping = documented['tacticalrmm-agent-detail']!.mapping;
const ninja = sample('ninjaone-device.detail.json');
const tactical = sample('tacticalrmm-agent.detail.json');
const kuma = sample('uptimekuma-monitor.down.json');

let db: TestDatabase;
let server: TestServer;
let tenant: string;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  tenant = await makeTenant(db.pool, TENANT);
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

type Hook = Awaited<ReturnType<typeof actionWebhook>>;
const send = (hook: Hook, body: unknown) => deliver(db.pool, server.url, TENANT, hook, body);

async function asset(assetId: string) {
  const { rows } = await db.pool.query(`select * from psa.assets where tenant = $1 and asset_id = $2`, [tenant, assetId]);
  return rows[0];
}

/** Device details with the numerics as numbers and the addresses as plain strings. */
async function details(assetId: string) {
  const { rows } = await db.pool.query(
    `select d.*, (select array_agg(host(ip) order by n) from unnest(d.ip_addresses) with ordinality u(ip, n)) as ips,
            d.ram_gb::float8 as ram, d.disk_total_gb::float8 as disk_total, d.disk_free_gb::float8 as disk_free
       from psa.asset_device_details d where d.tenant = $1 and d.asset_id = $2`,
    [tenant, assetId],
  );
  return rows;
}

async function assetMappings(assetId: string) {
  const { rows } = await db.pool.query(
    `select integration_type, external_entity_id from psa.tenant_external_entity_mappings
      where tenant = $1 and alga_entity_type = 'asset' and alga_entity_id = $2 order by integration_type`,
    [tenant, assetId],
  );
  return rows;
}

async function counts() {
  const { rows } = await db.pool.query(
    `select (select count(*)::int from psa.assets where tenant = $1) as assets,
            (select count(*)::int from psa.asset_device_details where tenant = $1) as details,
            (select count(*)::int from psa.tenant_external_entity_mappings where tenant = $1) as mappings`,
    [tenant],
  );
  return rows[0];
}

function expectFailed(delivery: any, ...fragments: string[]) {
  expect(delivery.dispatch_status).toBe('failed');
  expect(delivery.handler_outcome).toEqual({ error: delivery.error_message });
  for (const fragment of fragments) expect(delivery.error_message).toContain(fragment);
}

describe('device snapshots from RMM payloads', () => {
  it('a NinjaOne device detail becomes an asset with its device details; a resend updates it', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'ninja-devices', 'upsertAssetByExternalId', {
      ...ninjaMapping, client: '$string(organizationId)',
    });
    const { rows: clients } = await db.pool.query(`insert into psa.clients (tenant, client_name) values ($1, 'Corp Ltd') returning client_id`, [tenant]);
    const clientId = clients[0].client_id;
    await db.pool.query(
      `insert into psa.tenant_external_entity_mappings (tenant, integration_type, alga_entity_type, alga_entity_id, external_entity_id)
       values ($1, 'webhook:ninja-devices', 'client', $2, $3)`,
      [tenant, clientId, String(ninja.organizationId)],
    );

    const first = await send(hook, ninja);
    expect(first.error_message).toBeNull();
    expect(first.dispatch_status).toBe('dispatched');
    const assetId = first.handler_outcome.asset_id;
    expect(first.handler_outcome).toEqual({ action: 'upsertAssetByExternalId', asset_id: assetId, created: true, matched_by: null, device: true });
    expect(await asset(assetId)).toMatchObject({
      name: 'hyperv1', // no name mapped: the (normalized) hostname
      asset_type: 'server',
      serial_number: null, // "Chassis Serial Number" is a firmware placeholder
      status: 'active',
      client_id: clientId,
    });
    const [row] = await details(assetId);
    expect(row).toMatchObject({
      hostname: 'hyperv1',
      serial_number: null,
      os_name: 'Windows Server 2012 R2',
      os_version: '9600',
      manufacturer: null,
      model: null,
      ips: ['192.168.30.77', 'fe80::dc87:d522:60ff:7e7'],
      mac_addresses: ['08:60:6e:46:c7:4d'],
      cpu_model: 'Intel(R) Core(TM) i5-3570K CPU @ 3.40GHz',
      cpu_cores: 4,
      ram: 31.7,
      disk_total: 2082.1,
      disk_free: 469.5,
      logged_in_user: 'CORP\\Administratör',
      agent_status: 'online',
      source: 'webhook:ninja-devices',
    });
    expect(row.last_seen_at.toISOString()).toBe('2021-05-11T19:09:02.950Z');
    expect(row.raw).toMatchObject({ hostname: 'hyperv1', os_version: '9600', asset_type: 'server', last_seen_at: '2021-05-11T19:09:02.950Z' });
    expect(await assetMappings(assetId)).toEqual([{ integration_type: 'webhook:ninja-devices', external_entity_id: '192' }]);

    // The device goes offline: the same external id updates the same asset.
    const before = await counts();
    const second = await send(hook, { ...ninja, offline: true, lastContact: 1620763742.95 });
    expect(second.handler_outcome).toMatchObject({ asset_id: assetId, created: false, matched_by: 'external_id', device: true });
    expect(await counts()).toEqual(before);
    const [updated] = await details(assetId);
    expect(updated.agent_status).toBe('offline');
    expect(updated.last_seen_at.toISOString()).toBe('2021-05-11T20:09:02.950Z');
  });

  it('a Tactical RMM agent detail becomes an asset with its device details', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'tactical-agents', 'upsertAssetByExternalId', tacticalMapping);
    const d = await send(hook, tactical);
    expect(d.error_message).toBeNull();
    const assetId = d.handler_outcome.asset_id;
    expect(d.handler_outcome).toMatchObject({ created: true, matched_by: null, device: true });
    expect(await asset(assetId)).toMatchObject({ name: 'vnvmhostsrv4', asset_type: 'server', serial_number: 'ABCD123456', client_id: null });
    const [row] = await details(assetId);
    expect(row).toMatchObject({
      hostname: 'vnvmhostsrv4',
      serial_number: 'ABCD123456',
      os_name: 'Windows Server 2019 Standard',
      os_version: '17763',
      manufacturer: 'HP',
      model: 'ProLiant DL380 Gen9',
      ips: ['172.17.9.121', '172.17.9.6', '172.17.9.122'],
      mac_addresses: ['3c:a8:2a:e6:27:c8'],
      cpu_model: 'Intel(R) Xeon(R) CPU E5-2620 v4 @ 2.10GHz',
      cpu_cores: 16,
      ram: 192,
      disk_total: 2308.5,
      disk_free: 1088.5,
      logged_in_user: 'jsmith',
      agent_status: 'online',
      source: 'webhook:tactical-agents',
    });
    expect(row.last_seen_at.toISOString()).toBe('2026-05-11T14:01:52.114Z');
    expect(await assetMappings(assetId)).toEqual([{ integration_type: 'webhook:tactical-agents', external_entity_id: tactical.agent_id }]);
  });

  it('one machine described by NinjaOne and by Tactical RMM is one asset (matched by serial number)', async () => {
    const ninjaHook = await actionWebhook(db.pool, TENANT, 'ninja-fleet', 'upsertAssetByExternalId', ninjaMapping);
    const tacticalHook = await actionWebhook(db.pool, TENANT, 'tactical-fleet', 'upsertAssetByExternalId', tacticalMapping);
    const SERIAL = 'CZC7731XYZ';
    const ninjaBody = structuredClone(ninja);
    Object.assign(ninjaBody, { id: 7731, systemName: 'FILESRV01', dnsName: 'FILESRV01.corp.example.com' });
    ninjaBody.system.serialNumber = SERIAL;
    const tacticalBody = { ...structuredClone(tactical), agent_id: 'kQmZtWcYfilesrv01AgentIdXyZ', hostname: 'filesrv01', serial_number: SERIAL };

    const first = await send(ninjaHook, ninjaBody);
    expect(first.error_message).toBeNull();
    expect(first.handler_outcome).toMatchObject({ created: true, matched_by: null, device: true });
    const assetId = first.handler_outcome.asset_id;
    expect((await details(assetId))[0]).toMatchObject({ os_name: 'Windows Server 2012 R2', source: 'webhook:ninja-fleet' });

    const second = await send(tacticalHook, tacticalBody);
    expect(second.error_message).toBeNull();
    expect(second.handler_outcome).toEqual({
      action: 'upsertAssetByExternalId', asset_id: assetId, created: false, matched_by: 'serial_number', device: true,
    });

    const { rows: assets } = await db.pool.query(`select * from psa.assets where tenant = $1 and serial_number = $2`, [tenant, SERIAL]);
    expect(assets).toHaveLength(1);
    expect(assets[0]).toMatchObject({ asset_id: assetId, name: 'filesrv01', asset_type: 'server' });
    const rows = await details(assetId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      hostname: 'filesrv01',
      serial_number: SERIAL,
      os_name: 'Windows Server 2019 Standard', // the second sender's values replace the first's
      os_version: '17763',
      manufacturer: 'HP',
      model: 'ProLiant DL380 Gen9',
      ips: ['172.17.9.121', '172.17.9.6', '172.17.9.122'],
      mac_addresses: ['3c:a8:2a:e6:27:c8'],
      cpu_cores: 16,
      ram: 192,
      logged_in_user: 'jsmith',
      source: 'webhook:tactical-fleet',
    });
    expect(await assetMappings(assetId)).toEqual([
      { integration_type: 'webhook:ninja-fleet', external_entity_id: '7731' },
      { integration_type: 'webhook:tactical-fleet', external_entity_id: 'kQmZtWcYfilesrv01AgentIdXyZ' },
    ]);

    // Each sender's next report finds the asset by its own external id.
    const again = await send(ninjaHook, ninjaBody);
    expect(again.handler_outcome).toMatchObject({ asset_id: assetId, created: false, matched_by: 'external_id' });
    expect((await details(assetId))[0]).toMatchObject({ os_name: 'Windows Server 2012 R2', source: 'webhook:ninja-fleet' });
  });

  it('two senders reporting one new machine at the same moment still make one asset', async () => {
    const ninjaHook = await actionWebhook(db.pool, TENANT, 'ninja-race', 'upsertAssetByExternalId', ninjaMapping);
    const tacticalHook = await actionWebhook(db.pool, TENANT, 'tactical-race', 'upsertAssetByExternalId', tacticalMapping);
    for (let round = 0; round < 3; round++) {
      const serial = `RACE-SERIAL-${round}`;
      const ninjaBody = structuredClone(ninja);
      Object.assign(ninjaBody, { id: 9000 + round, systemName: `BACKUP0${round}` });
      ninjaBody.system.serialNumber = serial;
      const tacticalBody = { ...structuredClone(tactical), agent_id: `race-agent-${round}`, hostname: `backup0${round}`, serial_number: serial };
      const deliveries = await Promise.all([send(ninjaHook, ninjaBody), send(tacticalHook, tacticalBody)]);
      for (const d of deliveries) expect(d.error_message).toBeNull();
      expect(deliveries.map((d) => d.handler_outcome.created).sort()).toEqual([false, true]);
      const { rows } = await db.pool.query(`select asset_id from psa.assets where tenant = $1 and serial_number = $2`, [tenant, serial]);
      expect(rows).toHaveLength(1);
      expect(await details(rows[0].asset_id)).toHaveLength(1);
      expect(await assetMappings(rows[0].asset_id)).toHaveLength(2);
    }
  });

  it('without a serial number a device matches by hostname, never one with a different serial', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'inventory-script', 'upsertAssetByExternalId', {
      external_id: 'machine.uuid', hostname: 'machine.name', serial_number: 'machine.serial', os_name: 'machine.os', ip_addresses: 'machine.ips',
    });
    const { rows } = await db.pool.query(`select asset_id from psa.assets where tenant = $1 and serial_number = 'CZC7731XYZ'`, [tenant]);
    const fileServer = rows[0].asset_id;

    const same = await send(hook, { machine: { uuid: 'a1b2', name: 'FileSrv01', os: 'Windows Server 2019 Standard', ips: '10.0.0.5, not-an-ip' } });
    expect(same.error_message).toBeNull();
    expect(same.handler_outcome).toMatchObject({ asset_id: fileServer, created: false, matched_by: 'hostname' });
    expect((await details(fileServer))[0]).toMatchObject({ hostname: 'filesrv01', ips: ['10.0.0.5'], serial_number: null, source: 'webhook:inventory-script' });

    // Same name, another serial: another machine.
    const other = await send(hook, { machine: { uuid: 'c3d4', name: 'FILESRV01', serial: 'OTHER-123', os: 'Ubuntu 22.04.3 LTS' } });
    expect(other.handler_outcome).toMatchObject({ created: true, matched_by: null });
    expect(other.handler_outcome.asset_id).not.toBe(fileServer);
    expect(await asset(other.handler_outcome.asset_id)).toMatchObject({ name: 'filesrv01', serial_number: 'OTHER-123' });
  });
});

describe('non-device assets', () => {
  const kumaMapping = {
    external_id: '$string(monitor.id)',
    name: 'monitor.name',
    asset_type: '"website"',
    location: 'monitor.url',
    status: 'monitor.active ? "active" : "inactive"',
  };

  it('take a plain upsert: the asset and its mapping, no device details', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'uptime-kuma', 'upsertAssetByExternalId', kumaMapping);
    const first = await send(hook, kuma);
    expect(first.error_message).toBeNull();
    const assetId = first.handler_outcome.asset_id;
    expect(first.handler_outcome).toEqual({ action: 'upsertAssetByExternalId', asset_id: assetId, created: true, matched_by: null, device: false });
    expect(await asset(assetId)).toMatchObject({
      name: 'Acme Corp - Client Portal', asset_type: 'website', location: 'https://portal.acme.example', status: 'active', serial_number: null,
    });
    expect(await details(assetId)).toEqual([]);
    expect(await assetMappings(assetId)).toEqual([{ integration_type: 'webhook:uptime-kuma', external_entity_id: '12' }]);

    const renamed = { ...kuma, monitor: { ...kuma.monitor, name: 'Acme Portal', active: false } };
    const second = await send(hook, renamed);
    expect(second.handler_outcome).toMatchObject({ asset_id: assetId, created: false, matched_by: 'external_id', device: false });
    expect(await asset(assetId)).toMatchObject({ name: 'Acme Portal', status: 'inactive', location: 'https://portal.acme.example' });
    expect(await assetMappings(assetId)).toHaveLength(1);
  });

  it('a new one without a name fails naming the field', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'kuma-nameless', 'upsertAssetByExternalId', { ...kumaMapping, name: 'monitor.description' });
    const before = await counts();
    expectFailed(await send(hook, kuma), 'field "name"', 'required', '"12"');
    expect(await counts()).toEqual(before);
  });
});

describe('failures', () => {
  it('a value of the wrong type fails naming the field, the type and the value', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'ninja-bad-cores', 'upsertAssetByExternalId', { ...ninjaMapping, cpu_cores: 'processors[0].name' });
    const before = await counts();
    expectFailed(await send(hook, ninja), 'field "cpu_cores"', 'expected int', '"Intel(R) Core(TM) i5-3570K CPU @ 3.40GHz" (string)');
    expect(await counts()).toEqual(before);
  });

  it('a list field given an object fails naming the field and the type', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'ninja-bad-ips', 'upsertAssetByExternalId', { ...ninjaMapping, ip_addresses: 'os' });
    const before = await counts();
    expectFailed(await send(hook, ninja), 'field "ip_addresses"', 'expected a list', 'an object');
    expect(await counts()).toEqual(before);
  });

  it('a missing external_id fails validation', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'tactical-no-id', 'upsertAssetByExternalId', { ...tacticalMapping, external_id: 'agentId' });
    const before = await counts();
    expectFailed(await send(hook, tactical), 'field "external_id" is required (string)');
    expect(await counts()).toEqual(before);
  });

  it('a client reference that resolves to nothing fails naming the value and the entity type', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'ninja-unknown-org', 'upsertAssetByExternalId', { ...ninjaMapping, client: '"org-" & $string(organizationId)' });
    const before = await counts();
    expectFailed(await send(hook, ninja), 'field "client"', 'no client with id or external id "org-3"', 'webhook:ninja-unknown-org');
    expect(await counts()).toEqual(before);
  });
});
