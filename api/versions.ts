// A webhook's configuration versions (intake.inbound_webhook_versions, recorded by a trigger on
// every saved configuration) and restoring one: the same for GraphQL and REST, on a client
// inside the request's transaction as intake_user. Restoring goes through the same validation
// and SQL function as an update, so the restored configuration becomes a new version (with
// restored_from set) and is refused if it no longer validates (an action's fields changed).
import { UserError } from '../core/errors.ts';
import { validateWebhookInput } from '../core/webhookRules.ts';
import { ApiRequestError } from './errors.ts';
import { readWebhook, requirePermission, storeWebhook, type SqlClient, type WebhookRow } from './webhooks.ts';

export interface VersionRow {
  inbound_webhook_id: string;
  version: number;
  created_at: Date;
  created_by: string | null;
  changes: string[];
  config: Record<string, unknown>;
  restored_from: number | null;
}

export const MAX_VERSIONS_PAGE = 500;

/** Newest first; `first` at most MAX_VERSIONS_PAGE. Row-level security scopes it to the tenant. */
export async function listVersions(client: SqlClient, ids: readonly string[], first: number): Promise<VersionRow[]> {
  if (!Number.isInteger(first) || first < 1 || first > MAX_VERSIONS_PAGE) {
    throw new ApiRequestError('VALIDATION', `first: must be a whole number from 1 to ${MAX_VERSIONS_PAGE}`, { field: 'first' });
  }
  const { rows } = await client.query<VersionRow>({
    text: `select inbound_webhook_id, version, created_at, created_by, changes, config, restored_from
             from (select v.*, row_number() over (partition by v.inbound_webhook_id order by v.version desc) as n
                     from intake.inbound_webhook_versions v
                    where v.inbound_webhook_id = any($1::uuid[])) v
            where n <= $2
            order by inbound_webhook_id, version desc`,
    values: [ids, first],
  });
  return [...rows];
}

export async function readVersion(client: SqlClient, id: string, version: number): Promise<VersionRow> {
  if (!Number.isInteger(version) || version < 1) throw new ApiRequestError('VALIDATION', 'version: must be a whole number from 1', { field: 'version' });
  const { rows } = await client.query<VersionRow>({
    text: `select inbound_webhook_id, version, created_at, created_by, changes, config, restored_from
             from intake.inbound_webhook_versions where inbound_webhook_id = $1 and version = $2`,
    values: [id, version],
  });
  if (!rows[0]) throw new ApiRequestError('NOT_FOUND', `version ${version} of inbound webhook ${id} not found`);
  return rows[0];
}

/**
 * Saves version N's configuration as the webhook's new one. Whether the webhook is active is
 * not part of what a restore brings back: switching a webhook on or off stays a decision of its
 * own (setInboundWebhookActive).
 */
export async function restoreVersionAs(client: SqlClient, id: string, version: number): Promise<WebhookRow> {
  await requirePermission(client, 'update');
  const current = await readWebhook(client, id);
  const kept = await readVersion(client, id, version);
  let input;
  try {
    input = validateWebhookInput({ ...kept.config, is_active: current.is_active });
  } catch (error) {
    if (error instanceof UserError) throw new UserError(error.code, `version ${version} no longer validates: ${error.message}`, error.details);
    throw error;
  }
  await client.query({ text: `select set_config('intake.restoring_version', $1, true)`, values: [String(version)] });
  const row = await storeWebhook(client, current, input);
  await client.query({ text: `select set_config('intake.restoring_version', '', true)` });
  return row;
}
