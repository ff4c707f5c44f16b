// The outbound event types: the one list the triggers' names must match (test/outbound.events
// checks each is emitted), the API validates subscriptions against, and the UI's picker shows
// grouped by entity. The triggers themselves are in db/migrations/committed/000012.
export interface OutboundEventType {
  name: string;
  /** the group heading in the picker: the part before the first dot */
  entity: string;
  description: string;
}

const TYPES: ReadonlyArray<readonly [string, string]> = [
  ['ticket.created', 'A ticket was created.'],
  ['ticket.updated', 'A ticket changed (data.changes says which fields).'],
  ['ticket.status_changed', 'A ticket moved to another status.'],
  ['ticket.comment_added', 'A comment was added to a ticket.'],
  ['client.created', 'A client was created.'],
  ['client.updated', 'A client changed.'],
  ['contact.created', 'A contact was created.'],
  ['contact.updated', 'A contact changed.'],
  ['asset.created', 'An asset was created.'],
  ['asset.updated', 'An asset changed.'],
  ['invoice.paid', 'An invoice was paid in full.'],
  ['invoice.status_changed', 'An invoice moved to another status.'],
  ['time_entry.created', 'Time was logged.'],
  ['project_task.created', 'A project task was created.'],
  ['project_task.status_changed', 'A project task moved to another status.'],
  ['tag.added', 'A tag was put on an entity.'],
  ['inbound.delivery.failed', 'An inbound webhook delivery failed (its mapping or action).'],
  ['workflow_run.failed', 'A workflow run failed.'],
];

export const OUTBOUND_EVENT_TYPES: readonly OutboundEventType[] = TYPES.map(([name, description]) => ({
  name,
  entity: name.split('.')[0]!,
  description,
}));

const NAMES = new Set(OUTBOUND_EVENT_TYPES.map((t) => t.name));
const ENTITIES = new Set(OUTBOUND_EVENT_TYPES.map((t) => t.entity));

/** Why a subscription's event-type pattern is refused, or null: an exact name, "entity.*" or "*". */
export function eventPatternProblem(pattern: string): string | null {
  if (pattern === '*') return null;
  if (pattern.endsWith('.*')) {
    const entity = pattern.slice(0, -2);
    return ENTITIES.has(entity) ? null : `unknown entity "${entity}" in "${pattern}" (known: ${[...ENTITIES].join(', ')})`;
  }
  return NAMES.has(pattern) ? null : `unknown event type "${pattern}"`;
}

/** The same rule as intake_private.outbound_event_matches (SQL), for Node-side checks and tests. */
export function eventMatches(patterns: readonly string[], eventType: string): boolean {
  return patterns.some((p) => p === '*' || p === eventType || (p.endsWith('.*') && eventType.startsWith(p.slice(0, -1))));
}
