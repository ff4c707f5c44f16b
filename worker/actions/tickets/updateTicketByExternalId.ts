// updateTicketByExternalId: changes the mapped fields of the ticket an external id names (status,
// priority, assignee, board, title, description); fields not mapped stay as they are. A closed
// status stamps closed_at, an open one clears it. The outcome lists the fields that changed.
import { ActionError, registerAction } from '../registry.ts';
import { requireByExternalId, resolveReferences, resolveUser, type ReferenceRequest } from '../resolve.ts';

interface Values extends Record<string, unknown> {
  external_id: string;
  status?: string;
  priority?: string;
  assigned_to?: string;
  board?: string;
  title?: string;
  description?: string;
}

/** Target field → psa.tickets column, in the order the outcome lists them. */
const COLUMNS = {
  status: 'status_id',
  priority: 'priority_id',
  assigned_to: 'assigned_to',
  board: 'board_id',
  title: 'title',
  description: 'description',
} as const;
type UpdateField = keyof typeof COLUMNS;
type TicketRow = { [C in (typeof COLUMNS)[UpdateField]]: string | null } & { ticket_number: string; closed_at: Date | null };
const UPDATE_FIELDS = Object.keys(COLUMNS) as UpdateField[];

export const updateTicketByExternalId = registerAction<Values>({
  name: 'updateTicketByExternalId',
  entityType: 'ticket',
  displayName: 'Update ticket by external id',
  description: 'Updates the ticket an external id (recorded by createTicket in this namespace) names: only the mapped fields change, at least one must be mapped. A closed status (e.g. "Resolved") sets closed_at; reopening clears it.',
  targetFields: [
    { name: 'external_id', type: 'string', required: true, maxLength: 500, description: 'The sender\'s id for the ticket, as recorded in tenant_external_entity_mappings by createTicket.' },
    { name: 'status', type: 'ref', refEntity: 'ticket_status', required: false, description: 'New ticket status id or name (e.g. "In Progress", "Resolved").' },
    { name: 'priority', type: 'ref', refEntity: 'priority', required: false, description: 'New priority id or name (e.g. "High").' },
    { name: 'assigned_to', type: 'ref', refEntity: 'user', required: false, description: 'Assignee: a user id or email.' },
    { name: 'board', type: 'ref', refEntity: 'board', required: false, description: 'Board id or name to move the ticket to.' },
    { name: 'title', type: 'string', required: false, maxLength: 1000, description: 'New ticket title.' },
    { name: 'description', type: 'string', required: false, description: 'New ticket description (plain text); replaces the old one.' },
  ],
  async handle(ctx, v) {
    const mapped = UPDATE_FIELDS.filter((f) => v[f] !== undefined);
    if (mapped.length === 0) {
      throw new ActionError(
        `nothing to update: expected a value for at least one of ${UPDATE_FIELDS.map((f) => `"${f}"`).join(', ')}, got none (each was unmapped, null or missing from the body)`,
      );
    }
    const ticketId = await requireByExternalId(ctx, 'ticket', 'external_id', v.external_id);
    const { rows } = await ctx.db.query(
      `select ticket_number, status_id, priority_id, assigned_to, board_id, title, description, closed_at
         from psa.tickets where tenant = $1 and ticket_id = $2 for update`,
      [ctx.tenant, ticketId],
    );
    const current = rows[0] as TicketRow | undefined;
    if (!current) throw new ActionError(`field "external_id": external id ${JSON.stringify(v.external_id)} maps to ticket ${ticketId}, which no longer exists`);

    const references: (ReferenceRequest & { field: UpdateField })[] = [];
    if (v.status !== undefined) references.push({ kind: 'ticket_status', field: 'status', value: v.status });
    if (v.priority !== undefined) references.push({ kind: 'priority', field: 'priority', value: v.priority });
    if (v.board !== undefined) references.push({ kind: 'board', field: 'board', value: v.board });
    const next: Partial<Record<UpdateField, string>> = { title: v.title, description: v.description };
    const ids = await resolveReferences(ctx, references);
    references.forEach((r, i) => (next[r.field] = ids[i]));
    if (v.assigned_to !== undefined) next.assigned_to = await resolveUser(ctx, 'assigned_to', v.assigned_to);

    const changed = UPDATE_FIELDS.filter((f) => next[f] !== undefined && next[f] !== current[COLUMNS[f]]);
    const outcome = { ticket_id: ticketId, ticket_number: current.ticket_number, changed };
    if (changed.length === 0) return { ...outcome, closed: current.closed_at !== null };

    const params: unknown[] = [ctx.tenant, ticketId];
    const sets = changed.map((f) => {
      params.push(next[f]);
      const set = `${COLUMNS[f]} = $${params.length}`;
      // Closing keeps the first close time (Resolved → Closed); reopening clears it.
      if (f !== 'status') return set;
      return `${set}, closed_at = case when (select is_closed from psa.statuses where tenant = $1 and status_id = $${params.length})
                                  then coalesce(closed_at, now()) end`;
    });
    const updated = await ctx.db.query(
      `update psa.tickets set ${sets.join(', ')}, updated_at = now() where tenant = $1 and ticket_id = $2 returning closed_at`,
      params,
    );
    return { ...outcome, closed: updated.rows[0].closed_at !== null };
  },
});
