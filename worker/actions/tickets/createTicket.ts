// createTicket: a new ticket from mapped fields; with external_id mapped it also records the
// mapping, and a repeat of the same external id returns the ticket already made instead of a
// second one (alert sources re-fire; dedupe windows end).
import { registerAction } from '../registry.ts';
import { findByExternalId, lockExternalId, resolveEntity, resolveReferences, writeMapping } from '../resolve.ts';

interface Values extends Record<string, unknown> {
  title: string;
  description?: string;
  priority?: string;
  status?: string;
  board?: string;
  client?: string;
  contact?: string;
  asset?: string;
  external_id?: string;
}

export const createTicket = registerAction<Values>({
  name: 'createTicket',
  entityType: 'ticket',
  displayName: 'Create ticket',
  description: 'Creates a ticket. With external_id mapped, records it so later webhooks can update the ticket; a repeat of that external id returns the existing ticket.',
  targetFields: [
    { name: 'title', type: 'string', required: true, maxLength: 1000, description: 'Ticket title.' },
    { name: 'description', type: 'string', required: false, description: 'Ticket description (plain text).' },
    { name: 'priority', type: 'ref', refEntity: 'priority', required: false, description: 'Priority id or name (e.g. "High"); default priority when absent.' },
    { name: 'status', type: 'ref', refEntity: 'ticket_status', required: false, description: 'Ticket status id or name (e.g. "New"); default status when absent.' },
    { name: 'board', type: 'ref', refEntity: 'board', required: false, description: 'Board id or name; default board when absent.' },
    { name: 'client', type: 'ref', refEntity: 'client', required: false, description: 'Client id, or the client\'s external id in this webhook\'s namespace.' },
    { name: 'contact', type: 'ref', refEntity: 'contact', required: false, description: 'Contact id, or the contact\'s external id in this webhook\'s namespace.' },
    { name: 'asset', type: 'ref', refEntity: 'asset', required: false, description: 'Asset id, or the asset\'s external id in this webhook\'s namespace.' },
    { name: 'external_id', type: 'string', required: false, maxLength: 500, description: 'The sender\'s id for this ticket (alert id, group key); written to tenant_external_entity_mappings.' },
  ],
  async handle(ctx, v) {
    if (v.external_id !== undefined) {
      await lockExternalId(ctx, 'ticket', v.external_id);
      const existing = await findByExternalId(ctx, 'ticket', v.external_id);
      if (existing) {
        const { rows } = await ctx.db.query('select ticket_number from psa.tickets where tenant = $1 and ticket_id = $2', [ctx.tenant, existing]);
        return { ticket_id: existing, ticket_number: rows[0]?.ticket_number ?? null, created: false };
      }
    }
    const [boardId, statusId, priorityId] = await resolveReferences(ctx, [
      { kind: 'board', field: 'board', value: v.board },
      { kind: 'ticket_status', field: 'status', value: v.status },
      { kind: 'priority', field: 'priority', value: v.priority },
    ]);
    const clientId = v.client === undefined ? null : await resolveEntity(ctx, 'client', 'client', v.client);
    const contactId = v.contact === undefined ? null : await resolveEntity(ctx, 'contact', 'contact', v.contact);
    const assetId = v.asset === undefined ? null : await resolveEntity(ctx, 'asset', 'asset', v.asset);

    const { rows } = await ctx.db.query(
      `insert into psa.tickets (tenant, ticket_number, title, description, board_id, status_id, priority_id,
                                client_id, contact_name_id, asset_id, source)
       values ($1, psa.next_ticket_number(), $2, $3, $4, $5, $6, $7, $8, $9, 'inbound_webhook')
       returning ticket_id, ticket_number`,
      [ctx.tenant, v.title, v.description ?? null, boardId, statusId, priorityId, clientId, contactId, assetId],
    );
    const ticket = rows[0] as { ticket_id: string; ticket_number: string };
    if (v.external_id !== undefined) await writeMapping(ctx, 'ticket', ticket.ticket_id, v.external_id);
    return { ticket_id: ticket.ticket_id, ticket_number: ticket.ticket_number, created: true };
  },
});
