// upsertClientByExternalId: the client a sender knows by its own id. The first delivery of an
// external id creates the client and records the mapping; later ones update that same client
// (only the fields they map). Concurrent first deliveries of one id make one client.
import { ActionError, registerAction } from '../registry.ts';
import { findByExternalId, lockExternalId, writeMapping } from '../resolve.ts';

interface Values extends Record<string, unknown> {
  external_id: string;
  client_name?: string;
  email?: string;
  phone_no?: string;
  url?: string;
  notes?: string;
  is_inactive?: boolean;
}

const COLUMNS = ['client_name', 'email', 'phone_no', 'url', 'notes', 'is_inactive'] as const;

export const upsertClientByExternalId = registerAction<Values>({
  name: 'upsertClientByExternalId',
  entityType: 'client',
  displayName: 'Create or update client by external id',
  description:
    'Creates the client the first time an external id is seen and records the mapping; later deliveries with that external id update the same client. Fields left unmapped (or null) keep their current value.',
  targetFields: [
    { name: 'external_id', type: 'string', required: true, maxLength: 500, description: 'The sender\'s id for this client (customer/organization id); looked up in and written to tenant_external_entity_mappings.' },
    { name: 'client_name', type: 'string', required: false, maxLength: 500, description: 'Client (company) name. Required when the external id is new (the client is created); optional on update.' },
    { name: 'email', type: 'string', required: false, maxLength: 320, description: 'Main email address of the client.' },
    { name: 'phone_no', type: 'string', required: false, maxLength: 100, description: 'Main phone number of the client.' },
    { name: 'url', type: 'string', required: false, maxLength: 2000, description: 'Client website URL.' },
    { name: 'notes', type: 'string', required: false, description: 'Free-text notes about the client (replaces the current notes).' },
    { name: 'is_inactive', type: 'boolean', required: false, description: 'true marks the client inactive, false active; new clients are active when unmapped.' },
  ],
  async handle(ctx, v) {
    const fields = COLUMNS.filter((c) => v[c] !== undefined);
    await lockExternalId(ctx, 'client', v.external_id);
    const existing = await findByExternalId(ctx, 'client', v.external_id);
    if (existing) {
      const { rows } = await ctx.db.query(
        `update psa.clients
            set client_name = coalesce($3, client_name), email = coalesce($4, email), phone_no = coalesce($5, phone_no),
                url = coalesce($6, url), notes = coalesce($7, notes), is_inactive = coalesce($8, is_inactive), updated_at = now()
          where tenant = $1 and client_id = $2
          returning client_id`,
        [ctx.tenant, existing, v.client_name ?? null, v.email ?? null, v.phone_no ?? null, v.url ?? null, v.notes ?? null, v.is_inactive ?? null],
      );
      if (rows[0]) return { client_id: existing, created: false, fields };
      // The mapping outlived its client: create it afresh and re-point the mapping below.
    }
    if (v.client_name === undefined) {
      throw new ActionError(
        `field "client_name" is required (string) to create a client: no client has external id ${JSON.stringify(v.external_id)} in integration ${ctx.integrationType} yet, and the mapping produced no client_name`,
      );
    }
    const { rows } = await ctx.db.query(
      `insert into psa.clients (tenant, client_name, email, phone_no, url, notes, is_inactive)
       values ($1, $2, $3, $4, $5, $6, coalesce($7, false))
       returning client_id`,
      [ctx.tenant, v.client_name, v.email ?? null, v.phone_no ?? null, v.url ?? null, v.notes ?? null, v.is_inactive ?? null],
    );
    const clientId = rows[0].client_id as string;
    await writeMapping(ctx, 'client', clientId, v.external_id);
    return { client_id: clientId, created: true, fields };
  },
});
