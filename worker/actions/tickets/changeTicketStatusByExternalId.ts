// changeTicketStatusByExternalId: moves the ticket an external id names to a status (an alert
// resolving, an incident acknowledged). A closed status stamps closed_at, an open one clears it.
import { ActionError, registerAction } from '../registry.ts';
import { requireByExternalId, resolveReference } from '../resolve.ts';

interface Values extends Record<string, unknown> {
  external_id: string;
  status: string;
}

export const changeTicketStatusByExternalId = registerAction<Values>({
  name: 'changeTicketStatusByExternalId',
  entityType: 'ticket',
  displayName: 'Change ticket status by external id',
  description: 'Sets the status of the ticket an external id (recorded by createTicket in this namespace) names. A closed status (e.g. "Resolved") sets closed_at; reopening clears it.',
  targetFields: [
    { name: 'external_id', type: 'string', required: true, maxLength: 500, description: 'The sender\'s id for the ticket, as recorded in tenant_external_entity_mappings by createTicket.' },
    { name: 'status', type: 'ref', refEntity: 'ticket_status', required: true, description: 'Ticket status id or name (e.g. "In Progress", "Resolved").' },
  ],
  async handle(ctx, v) {
    const ticketId = await requireByExternalId(ctx, 'ticket', 'external_id', v.external_id);
    const statusId = await resolveReference(ctx, 'ticket_status', 'status', v.status);
    const { rows } = await ctx.db.query(
      `select t.ticket_number, t.status_id, s.name as status_name, t.closed_at
         from psa.tickets t join psa.statuses s on s.tenant = t.tenant and s.status_id = t.status_id
        where t.tenant = $1 and t.ticket_id = $2 for update of t`,
      [ctx.tenant, ticketId],
    );
    const current = rows[0] as { ticket_number: string; status_id: string; status_name: string; closed_at: Date | null } | undefined;
    if (!current) throw new ActionError(`field "external_id": external id ${JSON.stringify(v.external_id)} maps to ticket ${ticketId}, which no longer exists`);
    const outcome = { ticket_id: ticketId, ticket_number: current.ticket_number, previous_status: current.status_name };
    if (current.status_id === statusId) {
      return { ...outcome, status: current.status_name, changed: false, closed: current.closed_at !== null };
    }
    // Closing keeps the first close time (Resolved → Closed); reopening clears it.
    const updated = await ctx.db.query(
      `update psa.tickets t
          set status_id = s.status_id, updated_at = now(),
              closed_at = case when s.is_closed then coalesce(t.closed_at, now()) end
         from psa.statuses s
        where t.tenant = $1 and t.ticket_id = $2 and s.tenant = $1 and s.status_id = $3
        returning s.name as status_name, t.closed_at`,
      [ctx.tenant, ticketId, statusId],
    );
    const row = updated.rows[0] as { status_name: string; closed_at: Date | null };
    return { ...outcome, status: row.status_name, changed: true, closed: row.closed_at !== null };
  },
});
