// upsertAssetByExternalId: an asset a sender knows by its own id. Device-shaped values (a
// device_snapshot flag, or a hostname/serial number/OS) are normalized (deviceSnapshot.ts) and
// go through ingestNormalizedRmmDeviceSnapshot, so one machine reported by NinjaOne, Tactical RMM
// or a script becomes one asset. Anything else (a monitored URL, a licence) takes a plain upsert.
import { ActionError, registerAction, type ActionContext } from '../registry.ts';
import { findByExternalId, lockExternalId, resolveEntity, writeMapping } from '../resolve.ts';
import { isDeviceShaped, normalizeDeviceSnapshot } from './deviceSnapshot.ts';
import { ingestNormalizedRmmDeviceSnapshot } from './ingestDeviceSnapshot.ts';

interface Values extends Record<string, unknown> {
  external_id: string;
  name?: string;
  asset_type?: string;
  serial_number?: string;
  status?: string;
  location?: string;
  client?: string;
}

const SEE_DOCS = 'Normalized as in docs/device-snapshot.md.';

export const upsertAssetByExternalId = registerAction<Values>({
  name: 'upsertAssetByExternalId',
  entityType: 'asset',
  displayName: 'Create or update asset by external id',
  description:
    'Creates or updates the asset an external id maps to. Device-shaped values (device_snapshot true, or any of hostname, serial_number, os_name) are normalized into a device snapshot and matched by external id, then serial number, then hostname, so one machine reported by several RMMs is one asset with one set of device details; other assets are created or updated by external id alone.',
  targetFields: [
    { name: 'external_id', type: 'string', required: true, maxLength: 500, description: 'The sender\'s id for this asset or device (NinjaOne device id, Tactical RMM agent_id, …); matched first and written to tenant_external_entity_mappings.' },
    { name: 'name', type: 'string', required: false, maxLength: 500, description: 'Asset name. Required to create a non-device asset; a device without one is named by its hostname.' },
    { name: 'asset_type', type: 'string', required: false, maxLength: 100, description: 'Asset type (e.g. workstation, server, laptop, network, printer). For devices, a hint when device_type is unmapped; the stored type is the normalized one (workstation, server, laptop, network), else this value.' },
    { name: 'serial_number', type: 'string', required: false, maxLength: 255, description: 'Serial number; marks the values as a device. Firmware placeholders ("To Be Filled By O.E.M.", "Chassis Serial Number", …) count as absent.' },
    { name: 'status', type: 'string', required: false, maxLength: 100, description: 'Asset lifecycle status (e.g. active, in_repair, retired); new assets are "active" when unmapped. Not the agent status.' },
    { name: 'location', type: 'string', required: false, maxLength: 500, description: 'Where the asset is (site, room, address).' },
    { name: 'client', type: 'ref', refEntity: 'client', required: false, description: 'The client the asset belongs to: a client id, or the client\'s external id in this webhook\'s namespace. Device matching stays within this client (and unassigned assets).' },
    { name: 'device_snapshot', type: 'boolean', required: false, description: 'true forces the device path even without hostname, serial_number or os_name (e.g. `true`).' },
    { name: 'hostname', type: 'string', required: false, maxLength: 255, description: `Device hostname (short name or FQDN, kept whole, lower-cased); marks the values as a device and matches case-insensitively. ${SEE_DOCS}` },
    { name: 'device_type', type: 'string', required: false, maxLength: 100, description: 'The sender\'s device class (NinjaOne nodeClass such as WINDOWS_SERVER, Tactical monitoring_type such as "server"), normalized to workstation, server, laptop or network.' },
    { name: 'os_name', type: 'string', required: false, maxLength: 255, description: `Operating system, alone or combined with its version ("Microsoft Windows Server 2019 Standard, 64bit (build 17763)" → "Windows Server 2019 Standard" / "17763"); marks the values as a device. ${SEE_DOCS}` },
    { name: 'os_version', type: 'string', required: false, maxLength: 255, description: 'OS version or build; wins over a version split out of os_name.' },
    { name: 'manufacturer', type: 'string', required: false, maxLength: 255, description: 'Hardware vendor; common vendors are canonicalized ("Dell Inc." → "Dell", "Hewlett-Packard" → "HP").' },
    { name: 'model', type: 'string', required: false, maxLength: 255, description: 'Hardware model (e.g. "ProLiant DL380 Gen9").' },
    { name: 'ip_addresses', type: 'list', required: false, description: 'IP addresses: an array, or one comma-separated string. Invalid, loopback and unspecified addresses are dropped; a /prefix is ignored.' },
    { name: 'mac_addresses', type: 'list', required: false, description: 'MAC addresses in any common notation (array or comma-separated string), stored as aa:bb:cc:dd:ee:ff.' },
    { name: 'cpu_model', type: 'string', required: false, maxLength: 255, description: 'Processor model name.' },
    { name: 'cpu_cores', type: 'int', required: false, description: 'Total physical CPU cores (sum over sockets in the mapping, e.g. `$sum(processors.numCores)`).' },
    { name: 'ram', type: 'string', required: false, maxLength: 100, description: 'Installed memory: a number (bytes from 2^28, else MB from 1024, else GB) or text with a unit ("16 GB", "16384 MB"); stored in GB.' },
    { name: 'disk_total', type: 'list', required: false, description: 'Total disk capacity: one size or a list of sizes (one per disk or volume, summed), each a number or text with a unit ("465.3G", "1.8T"); stored in GB.' },
    { name: 'disk_free', type: 'list', required: false, description: 'Free disk space, as disk_total (summed over the list); stored in GB.' },
    { name: 'logged_in_user', type: 'string', required: false, maxLength: 255, description: 'The user logged in (or last logged in), e.g. "CORP\\jsmith"; "None" counts as absent.' },
    { name: 'agent_status', type: 'string', required: false, maxLength: 50, description: 'RMM agent state: online/up/connected/true → online, offline/down/disconnected/overdue/false → offline, anything else unknown.' },
    { name: 'last_seen', type: 'datetime', required: false, description: 'When the agent last checked in: ISO 8601, or epoch seconds or milliseconds.' },
  ],
  async handle(ctx, v) {
    const clientId = v.client === undefined ? null : await resolveEntity(ctx, 'client', 'client', v.client);
    if (isDeviceShaped(v)) {
      const result = await ingestNormalizedRmmDeviceSnapshot(ctx, normalizeDeviceSnapshot(v), {
        externalId: v.external_id,
        clientId,
        source: ctx.integrationType,
        name: v.name,
        status: v.status,
        location: v.location,
        assetType: v.asset_type,
      });
      return { ...result, device: true };
    }
    return { ...(await upsertPlainAsset(ctx, v, clientId)), device: false };
  },
});

/** A non-device asset: found by its external id and updated (mapped fields only), or created. */
async function upsertPlainAsset(ctx: ActionContext, v: Values, clientId: string | null) {
  await lockExternalId(ctx, 'asset', v.external_id);
  const existing = await findByExternalId(ctx, 'asset', v.external_id);
  if (existing) {
    const { rows } = await ctx.db.query(
      `update psa.assets
          set name = coalesce($3, name), asset_type = coalesce($4, asset_type), status = coalesce($5, status),
              location = coalesce($6, location), client_id = coalesce($7, client_id), updated_at = now()
        where tenant = $1 and asset_id = $2
        returning asset_id`,
      [ctx.tenant, existing, v.name ?? null, v.asset_type ?? null, v.status ?? null, v.location ?? null, clientId],
    );
    if (rows[0]) return { asset_id: existing, created: false, matched_by: 'external_id' as const };
    // The mapping outlived its asset: create it afresh and re-point the mapping below.
  }
  if (v.name === undefined) {
    throw new ActionError(
      `field "name" is required (string) to create an asset: no asset has external id ${JSON.stringify(v.external_id)} in integration ${ctx.integrationType} yet, and the mapping produced no name (nor a hostname)`,
    );
  }
  const { rows } = await ctx.db.query(
    `insert into psa.assets (tenant, name, asset_type, status, location, client_id)
     values ($1, $2, coalesce($3, 'unknown'), coalesce($4, 'active'), $5, $6)
     returning asset_id`,
    [ctx.tenant, v.name, v.asset_type ?? null, v.status ?? null, v.location ?? null, clientId],
  );
  const assetId = rows[0].asset_id as string;
  await writeMapping(ctx, 'asset', assetId, v.external_id);
  return { asset_id: assetId, created: true, matched_by: null };
}
