// addTicketCommentByExternalId: adds a comment to the ticket an external id names (an alert's
// follow-up, a note from an automation). Internal (staff only) unless is_internal is false.
import { registerAction } from '../registry.ts';
import { requireByExternalId } from '../resolve.ts';

interface Values extends Record<string, unknown> {
  external_id: string;
  body: string;
  is_internal?: boolean;
  author_label?: string;
}

export const addTicketCommentByExternalId = registerAction<Values>({
  name: 'addTicketCommentByExternalId',
  entityType: 'ticket',
  displayName: 'Add ticket comment by external id',
  description: 'Adds a comment to the ticket an external id (recorded by createTicket in this namespace) names; internal unless is_internal is false.',
  targetFields: [
    { name: 'external_id', type: 'string', required: true, maxLength: 500, description: 'The sender\'s id for the ticket, as recorded in tenant_external_entity_mappings by createTicket.' },
    { name: 'body', type: 'string', required: true, maxLength: 100_000, description: 'Comment text (plain text).' },
    { name: 'is_internal', type: 'boolean', required: false, description: 'true (the default): visible to the MSP\'s staff only; false: visible to the client too.' },
    { name: 'author_label', type: 'string', required: false, maxLength: 200, description: 'Who wrote it as the sender tells it (e.g. "Datadog", "jsmith via n8n").' },
  ],
  async handle(ctx, v) {
    const ticketId = await requireByExternalId(ctx, 'ticket', 'external_id', v.external_id);
    const { rows } = await ctx.db.query(
      `insert into psa.ticket_comments (tenant, ticket_id, body, is_internal, author_label, source)
       values ($1, $2, $3, $4, $5, 'inbound_webhook')
       returning comment_id, is_internal`,
      [ctx.tenant, ticketId, v.body, v.is_internal ?? true, v.author_label ?? null],
    );
    const comment = rows[0] as { comment_id: string; is_internal: boolean };
    return { ticket_id: ticketId, comment_id: comment.comment_id, is_internal: comment.is_internal, created: true };
  },
});
