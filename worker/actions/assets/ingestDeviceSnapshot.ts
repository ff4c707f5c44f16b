// The one way a device snapshot becomes an asset, whichever source sent it: match an existing
// asset by external id (this namespace's mapping), else by serial number, else by hostname, then
// write psa.assets, psa.asset_device_details and the mapping row. See docs/device-snapshot.md for
// the snapshot itself.
import { ActionError, type ActionContext } from '../registry.ts';
import { findByExternalId, lockExternalId, writeMapping } from '../resolve.ts';
import type { NormalizedDeviceSnapshot } from './deviceSnapshot.ts';

export interface DeviceIngestOptions {
  /** the sender's id for the device; matched first and recorded in ctx.integrationType's namespace */
  externalId?: string | null;
  /** the client the device belongs to: narrows matching and is set on the asset */
  clientId?: string | null;
  /** who sent the snapshot (asset_device_details.source): ctx.integrationType for webhooks */
  source: string;
  /** asset name when the sender maps one; otherwise the hostname names the asset */
  name?: string | null;
  status?: string | null;
  location?: string | null;
  /** asset type used when the snapshot's is 'unknown' */
  assetType?: string | null;
}

export type MatchedBy = 'external_id' | 'serial_number' | 'hostname' | null;

export interface DeviceIngestResult {
  asset_id: string;
  created: boolean;
  matched_by: MatchedBy;
}

/**
 * Serial and hostname locks are tenant-wide (not per namespace), so two senders describing one
 * new machine at once still make one asset. Order: external id (by the caller or below), then
 * serial, then hostname; every transaction takes them in that order, so none waits in a cycle.
 */
async function lockDeviceKeys(ctx: ActionContext, snapshot: NormalizedDeviceSnapshot): Promise<void> {
  const keys: string[] = [];
  if (snapshot.serial_number) keys.push(`${ctx.tenant}:asset:serial:${snapshot.serial_number.toUpperCase()}`);
  if (snapshot.hostname) keys.push(`${ctx.tenant}:asset:hostname:${snapshot.hostname.toLowerCase()}`);
  for (const key of keys) await ctx.db.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [key]);
}

/**
 * Candidates for serial/hostname matching: this tenant's assets of the given client (or with no
 * client yet), and not already mapped in this namespace to a DIFFERENT external id (that is
 * another device of the same sender, however alike).
 */
const CANDIDATES = `
  from psa.assets a
  left join psa.asset_device_details d on d.tenant = a.tenant and d.asset_id = a.asset_id
 where a.tenant = $1
   and ($2::uuid is null or a.client_id = $2 or a.client_id is null)
   and ($3::text is null or not exists (
         select 1 from psa.tenant_external_entity_mappings m
          where m.tenant = a.tenant and m.integration_type = $4 and m.alga_entity_type = 'asset'
            and m.alga_entity_id = a.asset_id::text and m.external_realm_id is null and m.external_entity_id <> $3))`;
const ORDER = `order by (a.client_id is not distinct from $2::uuid) desc, a.updated_at desc limit 1 for update of a`;

async function findMatch(
  ctx: ActionContext,
  snapshot: NormalizedDeviceSnapshot,
  options: DeviceIngestOptions,
): Promise<{ assetId: string; matchedBy: MatchedBy } | null> {
  if (options.externalId) {
    const mapped = await findByExternalId(ctx, 'asset', options.externalId);
    if (mapped) {
      const { rows } = await ctx.db.query(`select asset_id from psa.assets where tenant = $1 and asset_id = $2 for update`, [ctx.tenant, mapped]);
      if (rows[0]) return { assetId: mapped, matchedBy: 'external_id' };
    }
  }
  const base = [ctx.tenant, options.clientId ?? null, options.externalId ?? null, ctx.integrationType];
  if (snapshot.serial_number) {
    const { rows } = await ctx.db.query(
      `select a.asset_id ${CANDIDATES}
          and (upper(a.serial_number) = upper($5) or upper(d.serial_number) = upper($5))
        ${ORDER}`,
      [...base, snapshot.serial_number],
    );
    if (rows[0]) return { assetId: rows[0].asset_id, matchedBy: 'serial_number' };
  }
  if (snapshot.hostname) {
    // A known serial that differs from the snapshot's is another machine with the same name.
    const { rows } = await ctx.db.query(
      `select a.asset_id ${CANDIDATES}
          and (lower(a.name) = lower($5) or lower(d.hostname) = lower($5))
          and ($6::text is null or coalesce(d.serial_number, a.serial_number) is null
               or upper(coalesce(d.serial_number, a.serial_number)) = upper($6))
        ${ORDER}`,
      [...base, snapshot.hostname, snapshot.serial_number],
    );
    if (rows[0]) return { assetId: rows[0].asset_id, matchedBy: 'hostname' };
  }
  return null;
}

export async function ingestNormalizedRmmDeviceSnapshot(
  ctx: ActionContext,
  snapshot: NormalizedDeviceSnapshot,
  options: DeviceIngestOptions,
): Promise<DeviceIngestResult> {
  if (options.externalId) await lockExternalId(ctx, 'asset', options.externalId);
  await lockDeviceKeys(ctx, snapshot);
  const match = await findMatch(ctx, snapshot, options);
  const knownType = snapshot.asset_type === 'unknown' ? (options.assetType ?? null) : snapshot.asset_type;

  let assetId: string;
  if (match) {
    assetId = match.assetId;
    await ctx.db.query(
      `update psa.assets
          set name = coalesce($3, $4, name), asset_type = coalesce($5, asset_type), serial_number = coalesce($6, serial_number),
              client_id = coalesce($7, client_id), status = coalesce($8, status), location = coalesce($9, location), updated_at = now()
        where tenant = $1 and asset_id = $2`,
      [ctx.tenant, assetId, options.name ?? null, snapshot.hostname, knownType, snapshot.serial_number,
        options.clientId ?? null, options.status ?? null, options.location ?? null],
    );
  } else {
    const name = options.name ?? snapshot.hostname ?? snapshot.serial_number ?? options.externalId ?? null;
    if (!name) {
      throw new ActionError('field "name": a new device asset needs a name, hostname, serial_number or external_id; the mapping produced none');
    }
    const { rows } = await ctx.db.query(
      `insert into psa.assets (tenant, name, asset_type, serial_number, status, location, client_id)
       values ($1, $2, coalesce($3, 'unknown'), $4, coalesce($5, 'active'), $6, $7)
       returning asset_id`,
      [ctx.tenant, name, knownType, snapshot.serial_number, options.status ?? null, options.location ?? null, options.clientId ?? null],
    );
    assetId = rows[0].asset_id;
  }

  // The details are replaced as a whole: they describe the device as last reported.
  await ctx.db.query(
    `insert into psa.asset_device_details
       (tenant, asset_id, hostname, serial_number, os_name, os_version, manufacturer, model, ip_addresses, mac_addresses,
        cpu_model, cpu_cores, ram_gb, disk_total_gb, disk_free_gb, logged_in_user, agent_status, last_seen_at, source, raw)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9::inet[], $10::text[], $11, $12, $13, $14, $15, $16, $17, $18, $19, $20::jsonb)
     on conflict (tenant, asset_id) do update set
       hostname = excluded.hostname, serial_number = excluded.serial_number, os_name = excluded.os_name,
       os_version = excluded.os_version, manufacturer = excluded.manufacturer, model = excluded.model,
       ip_addresses = excluded.ip_addresses, mac_addresses = excluded.mac_addresses, cpu_model = excluded.cpu_model,
       cpu_cores = excluded.cpu_cores, ram_gb = excluded.ram_gb, disk_total_gb = excluded.disk_total_gb,
       disk_free_gb = excluded.disk_free_gb, logged_in_user = excluded.logged_in_user, agent_status = excluded.agent_status,
       last_seen_at = excluded.last_seen_at, source = excluded.source, raw = excluded.raw, updated_at = now()`,
    [
      ctx.tenant, assetId, snapshot.hostname, snapshot.serial_number, snapshot.os_name, snapshot.os_version,
      snapshot.manufacturer, snapshot.model, snapshot.ip_addresses, snapshot.mac_addresses, snapshot.cpu_model,
      snapshot.cpu_cores, snapshot.ram_gb, snapshot.disk_total_gb, snapshot.disk_free_gb, snapshot.logged_in_user,
      snapshot.agent_status, snapshot.last_seen_at, options.source, JSON.stringify(snapshot),
    ],
  );
  if (options.externalId) await writeMapping(ctx, 'asset', assetId, options.externalId);
  return { asset_id: assetId, created: match === null, matched_by: match?.matchedBy ?? null };
}
