// upsertContactByExternalId: the contact a sender knows by its own id, optionally linked to a
// client by the client's id or external id. The first delivery of an external id creates the
// contact and records the mapping; later ones update that same contact (only the fields mapped).
import { ActionError, registerAction } from '../registry.ts';
import { findByExternalId, lockExternalId, resolveEntity, writeMapping } from '../resolve.ts';

interface Values extends Record<string, unknown> {
  external_id: string;
  full_name?: string;
  email?: string;
  phone_number?: string;
  role?: string;
  is_inactive?: boolean;
  client?: string;
}

const COLUMNS = ['full_name', 'email', 'phone_number', 'role', 'is_inactive', 'client'] as const;

export const upsertContactByExternalId = registerAction<Values>({
  name: 'upsertContactByExternalId',
  entityType: 'contact',
  displayName: 'Create or update contact by external id',
  description:
    'Creates the contact the first time an external id is seen and records the mapping; later deliveries with that external id update the same contact. Links the contact to a client given by id or by the client\'s external id. Fields left unmapped (or null) keep their current value.',
  targetFields: [
    { name: 'external_id', type: 'string', required: true, maxLength: 500, description: 'The sender\'s id for this contact (person/user id); looked up in and written to tenant_external_entity_mappings.' },
    { name: 'full_name', type: 'string', required: false, maxLength: 500, description: 'The contact\'s full name. Required when the external id is new (the contact is created); optional on update.' },
    { name: 'email', type: 'string', required: false, maxLength: 320, description: 'The contact\'s email address.' },
    { name: 'phone_number', type: 'string', required: false, maxLength: 100, description: 'The contact\'s phone number.' },
    { name: 'role', type: 'string', required: false, maxLength: 200, description: 'The contact\'s role or job title at the client.' },
    { name: 'is_inactive', type: 'boolean', required: false, description: 'true marks the contact inactive, false active; new contacts are active when unmapped.' },
    { name: 'client', type: 'ref', refEntity: 'client', required: false, description: 'The client the contact belongs to: a client id, or the client\'s external id in this webhook\'s namespace.' },
  ],
  async handle(ctx, v) {
    const fields = COLUMNS.filter((c) => v[c] !== undefined);
    await lockExternalId(ctx, 'contact', v.external_id);
    const clientId = v.client === undefined ? null : await resolveEntity(ctx, 'client', 'client', v.client);
    const existing = await findByExternalId(ctx, 'contact', v.external_id);
    if (existing) {
      const { rows } = await ctx.db.query(
        `update psa.contacts
            set full_name = coalesce($3, full_name), email = coalesce($4, email), phone_number = coalesce($5, phone_number),
                role = coalesce($6, role), is_inactive = coalesce($7, is_inactive), client_id = coalesce($8, client_id), updated_at = now()
          where tenant = $1 and contact_name_id = $2
          returning client_id`,
        [ctx.tenant, existing, v.full_name ?? null, v.email ?? null, v.phone_number ?? null, v.role ?? null, v.is_inactive ?? null, clientId],
      );
      if (rows[0]) return { contact_name_id: existing, client_id: rows[0].client_id, created: false, fields };
      // The mapping outlived its contact: create it afresh and re-point the mapping below.
    }
    if (v.full_name === undefined) {
      throw new ActionError(
        `field "full_name" is required (string) to create a contact: no contact has external id ${JSON.stringify(v.external_id)} in integration ${ctx.integrationType} yet, and the mapping produced no full_name`,
      );
    }
    const { rows } = await ctx.db.query(
      `insert into psa.contacts (tenant, full_name, email, phone_number, role, is_inactive, client_id)
       values ($1, $2, $3, $4, $5, coalesce($6, false), $7)
       returning contact_name_id`,
      [ctx.tenant, v.full_name, v.email ?? null, v.phone_number ?? null, v.role ?? null, v.is_inactive ?? null, clientId],
    );
    const contactId = rows[0].contact_name_id as string;
    await writeMapping(ctx, 'contact', contactId, v.external_id);
    return { contact_name_id: contactId, client_id: clientId, created: true, fields };
  },
});
