// How actions find what a mapping names: reference data (boards, statuses, priorities) by id or
// name, entities by id or by external id through psa.tenant_external_entity_mappings. Every
// query runs in the action's transaction as intake_app, so row-level security scopes it to the
// delivery's tenant; the explicit tenant filter keeps it on the index (design rule 4).
import { ActionError, type ActionContext } from './registry.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ReferenceTable {
  table: string;
  id: string;
  name: string;
  /** extra filter, e.g. status_type */
  where?: string;
}

const referenceTables = {
  board: { table: 'psa.boards', id: 'board_id', name: 'board_name' },
  ticket_status: { table: 'psa.statuses', id: 'status_id', name: 'name', where: `status_type = 'ticket'` },
  project_task_status: { table: 'psa.statuses', id: 'status_id', name: 'name', where: `status_type = 'project_task'` },
  priority: { table: 'psa.priorities', id: 'priority_id', name: 'priority_name' },
} satisfies Record<string, ReferenceTable>;
export type ReferenceKind = keyof typeof referenceTables;

export interface ReferenceRequest {
  kind: ReferenceKind;
  /** the target field, for messages */
  field: string;
  /** id or case-insensitive name; undefined → the tenant's default */
  value: string | undefined;
}

/**
 * Resolves boards/statuses/priorities by id or case-insensitive name (undefined → the tenant's
 * default), all in one query: an action needing three references pays one round trip, and none
 * when the transaction resolved the same ones before (ctx.references).
 */
export async function resolveReferences(ctx: ActionContext, requests: readonly ReferenceRequest[]): Promise<string[]> {
  if (requests.length === 0) return [];
  const keys = requests.map((request) => `${request.kind}:${request.value === undefined ? '' : `=${request.value.toLowerCase()}`}`);
  const cached = keys.map((key) => ctx.references?.get(key));
  if (cached.every((id) => id !== undefined)) return cached;
  const params: unknown[] = [ctx.tenant];
  const columns = requests.map((request, i) => {
    const ref: ReferenceTable = referenceTables[request.kind];
    const extra = ref.where ? ` and ${ref.where}` : '';
    if (request.value === undefined) {
      return `(select ${ref.id} from ${ref.table} where tenant = $1 and is_default${extra} limit 1) as r${i}`;
    }
    params.push(request.value);
    const p = `$${params.length}`;
    return `(select ${ref.id} from ${ref.table} where tenant = $1${extra}
               and (${ref.id}::text = lower(${p}) or lower(${ref.name}) = lower(${p})) limit 1) as r${i}`;
  });
  const { rows } = await ctx.db.query(`select ${columns.join(', ')}`, params);
  const ids: string[] = [];
  for (const [i, request] of requests.entries()) {
    const id = rows[0]?.[`r${i}`] as string | null | undefined;
    if (!id) throw await referenceMiss(ctx, request);
    ids.push(id);
    ctx.references?.set(keys[i]!, id);
  }
  return ids;
}

/** Resolves one board/status/priority (see resolveReferences). */
export async function resolveReference(ctx: ActionContext, kind: ReferenceKind, field: string, value: string | undefined): Promise<string> {
  return (await resolveReferences(ctx, [{ kind, field, value }]))[0]!;
}

async function referenceMiss(ctx: ActionContext, request: ReferenceRequest): Promise<ActionError> {
  const ref: ReferenceTable = referenceTables[request.kind];
  const label = request.kind.replace('_', ' ');
  if (request.value === undefined) {
    return new ActionError(`field "${request.field}": no value mapped and the tenant has no default ${label}`);
  }
  const extra = ref.where ? ` and ${ref.where}` : '';
  const names = await ctx.db.query(`select ${ref.name} as name from ${ref.table} where tenant = $1${extra} order by 1`, [ctx.tenant]);
  return new ActionError(
    `field "${request.field}": no ${label} named or with id ${JSON.stringify(request.value)} (known: ${names.rows.map((r) => r.name).join(', ')})`,
  );
}

interface EntityTable {
  table: string;
  id: string;
}

/** Entities actions can reference; the keys are the alga_entity_type values of the mappings table. */
export const entityTables = {
  client: { table: 'psa.clients', id: 'client_id' },
  contact: { table: 'psa.contacts', id: 'contact_name_id' },
  asset: { table: 'psa.assets', id: 'asset_id' },
  ticket: { table: 'psa.tickets', id: 'ticket_id' },
  invoice: { table: 'psa.invoices', id: 'invoice_id' },
  project: { table: 'psa.projects', id: 'project_id' },
  project_task: { table: 'psa.project_tasks', id: 'task_id' },
  time_entry: { table: 'psa.time_entries', id: 'entry_id' },
} satisfies Record<string, EntityTable>;
export type EntityType = keyof typeof entityTables;

export function isEntityType(value: string): value is EntityType {
  return Object.hasOwn(entityTables, value);
}

/** The entity an external id maps to in this webhook's namespace, or null. */
export async function findByExternalId(ctx: ActionContext, entityType: string, externalId: string): Promise<string | null> {
  const { rows } = await ctx.db.query(
    `select alga_entity_id from psa.tenant_external_entity_mappings
      where tenant = $1 and integration_type = $2 and alga_entity_type = $3 and external_entity_id = $4 and external_realm_id is null`,
    [ctx.tenant, ctx.integrationType, entityType, externalId],
  );
  return rows[0]?.alga_entity_id ?? null;
}

/**
 * Resolves an entity reference: an id of an existing entity, otherwise an external id through
 * the mappings table. A miss is a permanent failure naming the value and the entity type.
 */
export async function resolveEntity(ctx: ActionContext, entityType: EntityType, field: string, value: string): Promise<string> {
  const entity: EntityTable = entityTables[entityType];
  if (UUID.test(value)) {
    const { rows } = await ctx.db.query(`select ${entity.id} as id from ${entity.table} where tenant = $1 and ${entity.id} = $2`, [ctx.tenant, value]);
    if (rows[0]) return rows[0].id;
  }
  const mapped = await findByExternalId(ctx, entityType, value);
  if (mapped) return mapped;
  throw new ActionError(
    `field "${field}": no ${entityType} with id or external id ${JSON.stringify(value)} (looked up in integration ${ctx.integrationType})`,
  );
}

/**
 * Finds the entity an external id maps to, or fails the delivery naming the id and the entity
 * type (the lookup miss of every *ByExternalId action).
 */
export async function requireByExternalId(ctx: ActionContext, entityType: EntityType, field: string, externalId: string): Promise<string> {
  const id = await findByExternalId(ctx, entityType, externalId);
  if (id) return id;
  throw new ActionError(
    `field "${field}": no ${entityType} with external id ${JSON.stringify(externalId)} in integration ${ctx.integrationType}`,
  );
}

/** A user by id or (case-insensitive) email. */
export async function resolveUser(ctx: ActionContext, field: string, value: string): Promise<string> {
  const { rows } = await ctx.db.query(
    `select user_id from psa.users where tenant = $1 and (user_id::text = lower($2) or lower(email) = lower($2)) limit 1`,
    [ctx.tenant, value],
  );
  if (rows[0]) return rows[0].user_id;
  throw new ActionError(`field "${field}": no user with id or email ${JSON.stringify(value)}`);
}

/**
 * Serializes work on one external id inside the transaction, so two deliveries that create the
 * same external id at once produce one entity: the second waits, then finds the first's mapping.
 */
export async function lockExternalId(ctx: ActionContext, entityType: string, externalId: string): Promise<void> {
  await ctx.db.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [
    `${ctx.tenant}:${ctx.integrationType}:${entityType}:${externalId}`,
  ]);
}

/** Records external id → entity in this webhook's namespace (insert or refresh). */
export async function writeMapping(ctx: ActionContext, entityType: string, entityId: string, externalId: string): Promise<void> {
  await ctx.db.query(
    `insert into psa.tenant_external_entity_mappings
       (tenant, integration_type, alga_entity_type, alga_entity_id, external_entity_id, metadata)
     values ($1, $2, $3, $4, $5, jsonb_build_object('source', 'inbound_webhook', 'inbound_webhook_id', $6::text, 'delivery_id', $7::text))
     on conflict (tenant, integration_type, alga_entity_type, external_entity_id, external_realm_id)
     do update set alga_entity_id = excluded.alga_entity_id, last_synced_at = now(), updated_at = now(), sync_status = 'synced'`,
    [ctx.tenant, ctx.integrationType, entityType, entityId, externalId, ctx.inboundWebhookId, ctx.deliveryId],
  );
}
