// A delivery's handler outcome in a few words for the log ("Ticket T-000123"): a translation key
// and its values, picked from the JSON the action recorded (worker/actions/*: e.g. createTicket
// records {action, ticket_id, ticket_number, created}).
export interface OutcomeSummary {
  key: string;
  values: Record<string, string>;
}

const ENTITY_OF_ID: [string, string][] = [
  ['workflow_run_id', 'workflowRun'],
  ['ticket_id', 'ticket'],
  ['contact_name_id', 'contact'],
  ['asset_id', 'asset'],
  ['invoice_id', 'invoice'],
  ['entry_id', 'timeEntry'],
  ['task_id', 'projectTask'],
  ['tag_id', 'tag'],
  ['client_id', 'client'],
];

export function summarizeOutcome(outcome: unknown, dispatchStatus: string): OutcomeSummary | null {
  if (dispatchStatus === 'duplicate') return { key: 'outcome.duplicate', values: {} };
  if (dispatchStatus === 'pending') return { key: 'outcome.pending', values: {} };
  if (!outcome || typeof outcome !== 'object' || Array.isArray(outcome)) {
    return dispatchStatus === 'failed' ? { key: 'outcome.failed', values: {} } : null;
  }
  const o = outcome as Record<string, unknown>;
  if (typeof o.error === 'string') return { key: 'outcome.error', values: { error: o.error } };
  if (typeof o.ticket_number === 'string') return { key: 'outcome.ticketNumber', values: { number: o.ticket_number } };
  if (typeof o.invoice_number === 'string') return { key: 'outcome.invoiceNumber', values: { number: o.invoice_number } };
  for (const [idKey, entity] of ENTITY_OF_ID) {
    if (idKey in o) {
      if (entity === 'workflowRun') return { key: 'outcome.workflowRun', values: {} };
      const verb = o.created === true ? 'created' : o.created === false ? 'matched' : 'updated';
      return { key: `outcome.${verb}`, values: { entity } };
    }
  }
  return { key: 'outcome.done', values: {} };
}
