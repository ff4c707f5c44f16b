// The dry run's sentence for what an action would do (worker/preview.ts describeOutcome), for
// each kind of outcome the registered actions return: pure, no database.
import { describe, expect, it } from 'vitest';
import { getAction, type RegisteredAction } from '../worker/actions/index.ts';
import { describeOutcome } from '../worker/preview.ts';

const action = (name: string): RegisteredAction => {
  const found = getAction(name);
  if (!found) throw new Error(`no action ${name}`);
  return found;
};

describe('describeOutcome', () => {
  it.each([
    ['createTicket', {}, { ticket_number: 'T-000007', created: true }, 'create', 'creates ticket'],
    ['createTicket', { external_id: 'A-1' }, { ticket_number: 'T-000007', created: false }, 'skip', "creates no ticket: external id 'A-1' already maps to ticket T-000007"],
    ['upsertClientByExternalId', { external_id: 'C-1' }, { created: true }, 'create', "creates client with external id 'C-1'"],
    ['upsertClientByExternalId', { external_id: 'C-1' }, { created: false }, 'update', "updates client matched by external id 'C-1'"],
    ['updateTicketByExternalId', { external_id: 'A-1' }, { ticket_number: 'T-000123', changed: ['status', 'priority'] }, 'update', "updates ticket T-000123 matched by external id 'A-1' (status, priority)"],
    ['updateTicketByExternalId', { external_id: 'A-1' }, { ticket_number: 'T-000123', changed: [] }, 'skip', "no change: ticket T-000123 matched by external id 'A-1' already has these values"],
    ['changeTicketStatusByExternalId', { external_id: 'A-1' }, { ticket_number: 'T-000123', changed: true }, 'update', "changes ticket status: ticket T-000123 matched by external id 'A-1'"],
    ['addTicketCommentByExternalId', { external_id: 'A-1' }, { created: true }, 'create', "adds ticket comment: ticket matched by external id 'A-1'"],
    ['setClientActiveByExternalId', { external_id: 'C-1', is_active: false }, { changed: true }, 'update', "deactivates client matched by external id 'C-1'"],
    ['setClientActiveByExternalId', { external_id: 'C-1', is_active: false }, { changed: false }, 'skip', "no change: client matched by external id 'C-1' already has these values"],
    ['addTagToEntityByExternalId', { external_id: 'A-1', entity_type: 'ticket', tag: 'urgent' }, { created: true }, 'update', "tags ticket matched by external id 'A-1' with 'urgent'"],
    ['addTagToEntityByExternalId', { external_id: 'A-1', entity_type: 'ticket', tag: 'urgent' }, { created: false }, 'skip', "no change: ticket matched by external id 'A-1' already has tag 'urgent'"],
    ['markInvoicePaidByExternalId', { external_id: 'in_1' }, { duplicate_payment: true }, 'skip', "no change: this payment is already recorded on invoice matched by external id 'in_1'"],
    ['markInvoicePaidByExternalId', { external_id: 'in_1' }, { status: 'paid' }, 'update', "records invoice payment: invoice matched by external id 'in_1'"],
  ])('%s %j → %s', (name, values, outcome, kind, summary) => {
    expect(describeOutcome(action(name), values, outcome)).toEqual({ outcome: kind, summary, ok: true });
  });
});
