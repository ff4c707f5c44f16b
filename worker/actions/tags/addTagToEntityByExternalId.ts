// addTagToEntityByExternalId: tags the entity an external id names, whatever its type (the type
// comes from the mapping, e.g. `"client"`). Tags are one per text whatever its case, so
// "Urgent" reuses an existing "urgent"; tagging an entity twice leaves one link.
import { ActionError, registerAction } from '../registry.ts';
import { entityTables, requireByExternalId, type EntityType } from '../resolve.ts';

/** The psa.tag_links.tagged_type values; `satisfies` keeps each one resolvable by external id. */
const TAGGABLE_TYPES = ['ticket', 'client', 'contact', 'asset', 'invoice', 'project', 'project_task', 'time_entry'] as const satisfies readonly EntityType[];

interface Values extends Record<string, unknown> {
  entity_type: (typeof TAGGABLE_TYPES)[number];
  external_id: string;
  tag: string;
}

export const addTagToEntityByExternalId = registerAction<Values>({
  name: 'addTagToEntityByExternalId',
  entityType: 'tag',
  displayName: 'Add tag to entity by external id',
  description: 'Tags the entity of the given type that an external id names in this namespace. The tag is found case-insensitively or created; a link that already exists is left as it is.',
  targetFields: [
    { name: 'entity_type', type: 'enum', enumValues: TAGGABLE_TYPES, required: true, description: 'What kind of entity the external id names.' },
    { name: 'external_id', type: 'string', required: true, maxLength: 500, description: 'The sender\'s id for the entity, as recorded in tenant_external_entity_mappings.' },
    { name: 'tag', type: 'string', required: true, maxLength: 100, description: 'Tag text (trimmed; matched case-insensitively against existing tags).' },
  ],
  async handle(ctx, v) {
    const entityId = await requireByExternalId(ctx, v.entity_type, 'external_id', v.external_id);
    const entity = entityTables[v.entity_type];
    // tag_links has no foreign key to the tagged row (it is polymorphic), so check it is there.
    const exists = await ctx.db.query(`select 1 from ${entity.table} where tenant = $1 and ${entity.id} = $2`, [ctx.tenant, entityId]);
    if (exists.rowCount === 0) {
      throw new ActionError(`field "external_id": external id ${JSON.stringify(v.external_id)} maps to ${v.entity_type} ${entityId}, which no longer exists`);
    }

    // Find or create the tag. Two deliveries creating one new tag at once: the second insert
    // waits for the first, does nothing, and the select (a new snapshot) then sees the first's.
    const inserted = await ctx.db.query(
      `insert into psa.tags (tenant, tag_text) values ($1, $2)
       on conflict (tenant, lower(tag_text)) do nothing
       returning tag_id, tag_text`,
      [ctx.tenant, v.tag],
    );
    const tag = (inserted.rows[0] ??
      (await ctx.db.query(`select tag_id, tag_text from psa.tags where tenant = $1 and lower(tag_text) = lower($2)`, [ctx.tenant, v.tag])).rows[0]) as
      { tag_id: string; tag_text: string };

    const linked = await ctx.db.query(
      `insert into psa.tag_links (tenant, tag_id, tagged_type, tagged_id) values ($1, $2, $3, $4)
       on conflict do nothing`,
      [ctx.tenant, tag.tag_id, v.entity_type, entityId],
    );
    return {
      tag_id: tag.tag_id,
      tag_text: tag.tag_text,
      tag_created: inserted.rowCount === 1,
      entity_type: v.entity_type,
      entity_id: entityId,
      created: linked.rowCount === 1,
    };
  },
});
