// setClientActiveByExternalId: activates or deactivates the client an external id maps to
// (a customer cancelled or came back in the billing or CRM system).
import { ActionError, registerAction } from '../registry.ts';
import { requireByExternalId } from '../resolve.ts';

interface Values extends Record<string, unknown> {
  external_id: string;
  is_active: boolean;
}

export const setClientActiveByExternalId = registerAction<Values>({
  name: 'setClientActiveByExternalId',
  entityType: 'client',
  displayName: 'Activate or deactivate client by external id',
  description: 'Sets the client an external id maps to active or inactive (is_inactive = not is_active). Fails when no client has that external id.',
  targetFields: [
    { name: 'external_id', type: 'string', required: true, maxLength: 500, description: 'The sender\'s id for the client, as recorded by upsertClientByExternalId (or another webhook of the same namespace).' },
    { name: 'is_active', type: 'boolean', required: true, description: 'true makes the client active, false inactive (e.g. `status = "cancelled" ? false : true`).' },
  ],
  async handle(ctx, v) {
    const clientId = await requireByExternalId(ctx, 'client', 'external_id', v.external_id);
    const { rows } = await ctx.db.query(
      `update psa.clients c
          set is_inactive = $3, updated_at = case when prev.is_inactive = $3 then c.updated_at else now() end
         from (select is_inactive from psa.clients where tenant = $1 and client_id = $2 for update) prev
        where c.tenant = $1 and c.client_id = $2
        returning prev.is_inactive as was_inactive`,
      [ctx.tenant, clientId, !v.is_active],
    );
    if (!rows[0]) {
      throw new ActionError(`field "external_id": external id ${JSON.stringify(v.external_id)} maps to client ${clientId}, which no longer exists`);
    }
    return { client_id: clientId, is_active: v.is_active, changed: rows[0].was_inactive !== !v.is_active };
  },
});
