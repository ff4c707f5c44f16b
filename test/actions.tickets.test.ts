// Ticket actions by external id, end to end through the receiver and the worker: Alertmanager
// opens a ticket with createTicket (external_id ← groupKey, recorded in namespace
// webhook:alertmanager); other webhooks that name that namespace (mapping_namespace) update it,
// change its status and comment on it. Each one also fails validation and misses the lookup.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedWebhook } from '../core/webhooks.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { actionWebhook, deliver } from './support/inbound.ts';
import { makeTenant, startTestServer, type TestServer } from './support/server.ts';

const TENANT = 'tickets';
const NAMESPACE = 'alertmanager';
const sample = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/samples/${name}`, import.meta.url), 'utf8')) as Record<string, any>;
const alertmanager = sample('alertmanager-alert.firing.json');
const pagerduty = sample('pagerduty-incident.triggered.json');

let db: TestDatabase;
let server: TestServer;
let tenant: string;
let janeId: string;
let create: CreatedWebhook;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  tenant = await makeTenant(db.pool, TENANT);
  const { rows } = await db.pool.query(
    `insert into psa.users (tenant, email, display_name) values ($1, 'Jane.Doe@msp.example', 'Jane Doe') returning user_id`, [tenant]);
  janeId = rows[0].user_id;
  // The create webhook: its namespace is its own slug, "alertmanager".
  create = await actionWebhook(db.pool, TENANT, NAMESPACE, 'createTicket', {
    title: 'commonAnnotations.summary',
    description: 'commonAnnotations.description',
    priority: 'commonLabels.severity',
    external_id: 'groupKey',
  });
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

const send = (hook: CreatedWebhook, body: unknown) => deliver(db.pool, server.url, TENANT, hook, body);

/** The Alertmanager sample for another alert group, firing or resolved. */
function alertBody(groupKey: string, status: 'firing' | 'resolved' = 'firing') {
  return { ...alertmanager, status, groupKey, alerts: alertmanager.alerts.map((a: object) => ({ ...a, status })) };
}

/**
 * The PagerDuty sample for the incident Alertmanager's PagerDuty receiver opened for the same
 * alert group: its incident_key is the group key.
 */
function incidentBody(incidentKey: string, data: Record<string, unknown> = {}, eventType = 'incident.acknowledged') {
  return { event: { ...pagerduty.event, event_type: eventType, data: { ...pagerduty.event.data, incident_key: incidentKey, ...data } } };
}

async function ticket(ticketId: string) {
  const { rows } = await db.pool.query(
    `select t.*, s.name as status_name, p.priority_name, b.board_name
       from psa.tickets t
       join psa.statuses s on s.tenant = t.tenant and s.status_id = t.status_id
       join psa.priorities p on p.tenant = t.tenant and p.priority_id = t.priority_id
       join psa.boards b on b.tenant = t.tenant and b.board_id = t.board_id
      where t.tenant = $1 and t.ticket_id = $2`,
    [tenant, ticketId],
  );
  return rows[0];
}

/** Opens a ticket through the Alertmanager create webhook and returns its row. */
async function alertTicket(groupKey: string) {
  const delivery = await send(create, alertBody(groupKey));
  expect(delivery.error_message).toBeNull();
  expect(delivery.handler_outcome.created).toBe(true);
  const row = await ticket(delivery.handler_outcome.ticket_id);
  expect(row).toMatchObject({ status_name: 'New', priority_name: 'Critical', board_name: 'General', assigned_to: null, closed_at: null });
  return row;
}

async function ticketCount(): Promise<number> {
  const { rows } = await db.pool.query(`select count(*)::int as n from psa.tickets where tenant = $1`, [tenant]);
  return rows[0].n;
}

/** Sends the body, expects a permanent failure, returns the error message. */
async function failure(hook: CreatedWebhook, body: unknown): Promise<string> {
  const delivery = await send(hook, body);
  expect(delivery.dispatch_status).toBe('failed');
  expect(delivery.retry_count).toBe(0);
  expect(delivery.handler_outcome).toEqual({ error: delivery.error_message });
  return delivery.error_message;
}

describe('updateTicketByExternalId', () => {
  const P = `$lookup({"P1": "Critical", "P2": "High", "P3": "Medium", "P4": "Low"}, event.data.priority.summary)`;
  const updateMapping = {
    external_id: 'event.data.incident_key',
    status: `$lookup({"triggered": "New", "acknowledged": "In Progress", "resolved": "Resolved"}, event.data.status)`,
    priority: P,
    // PagerDuty user id → the PSA user's email
    assigned_to: `$lookup({"PTUXL6G": "jane.doe@msp.example"}, event.data.assignees[0].id)`,
    board: '"Alerts"',
    title: '"[PagerDuty #" & event.data.number & "] " & event.data.title',
    description: '"PagerDuty incident: " & event.data.html_url',
  };
  let update: CreatedWebhook;
  beforeAll(async () => {
    update = await actionWebhook(db.pool, TENANT, 'pagerduty-update', 'updateTicketByExternalId', updateMapping, { mapping_namespace: NAMESPACE });
  });

  it('PagerDuty updates the ticket Alertmanager opened: mapped fields that differ change, resolving sets closed_at', async () => {
    const before = await alertTicket(alertmanager.groupKey);
    const tickets = await ticketCount();

    const acknowledged = incidentBody(alertmanager.groupKey, { status: 'acknowledged', priority: { ...pagerduty.event.data.priority, summary: 'P2' } });
    const first = await send(update, acknowledged);
    expect(first.error_message).toBeNull();
    expect(first.dispatch_status).toBe('dispatched');
    expect(first.handler_outcome).toEqual({
      action: 'updateTicketByExternalId',
      ticket_id: before.ticket_id,
      ticket_number: before.ticket_number,
      changed: ['status', 'priority', 'assigned_to', 'board', 'title', 'description'],
      closed: false,
    });
    const after = await ticket(before.ticket_id);
    expect(after).toMatchObject({
      ticket_number: before.ticket_number,
      status_name: 'In Progress',
      priority_name: 'High',
      assigned_to: janeId,
      board_name: 'Alerts',
      title: '[PagerDuty #2] A little bump in the road',
      description: `PagerDuty incident: ${pagerduty.event.data.html_url}`,
      client_id: null,
      source: 'inbound_webhook',
      closed_at: null,
    });
    expect(after.entered_at).toEqual(before.entered_at);
    expect(after.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());
    expect(await ticketCount()).toBe(tickets); // updated, not created

    // The same update again changes nothing, not even updated_at.
    const again = await send(update, acknowledged);
    expect(again.dispatch_status).toBe('dispatched');
    expect(again.handler_outcome).toMatchObject({ ticket_id: before.ticket_id, changed: [], closed: false });
    expect((await ticket(before.ticket_id)).updated_at).toEqual(after.updated_at);

    // Resolved, with nobody assigned in PagerDuty: assigned_to maps to nothing and stays.
    const resolved = incidentBody(alertmanager.groupKey, { status: 'resolved', assignees: [], priority: acknowledged.event.data.priority }, 'incident.resolved');
    const third = await send(update, resolved);
    expect(third.error_message).toBeNull();
    expect(third.handler_outcome).toMatchObject({ ticket_id: before.ticket_id, changed: ['status'], closed: true });
    const closed = await ticket(before.ticket_id);
    expect(closed).toMatchObject({ status_name: 'Resolved', assigned_to: janeId, priority_name: 'High', board_name: 'Alerts' });
    expect(closed.closed_at).toBeInstanceOf(Date);
    expect(closed.closed_at.getTime()).toBeGreaterThanOrEqual(closed.updated_at.getTime() - 1000);

    // Reopened: closed_at is cleared.
    const reopened = await send(update, incidentBody(alertmanager.groupKey, { status: 'triggered', priority: acknowledged.event.data.priority }, 'incident.reopened'));
    expect(reopened.handler_outcome).toMatchObject({ changed: ['status'], closed: false });
    expect(await ticket(before.ticket_id)).toMatchObject({ status_name: 'New', closed_at: null });
  });

  it('a field of the wrong type fails validation naming the field, the type and the value; the ticket is untouched', async () => {
    const groupKey = '{}:{alertname="HighLoad"}';
    const before = await alertTicket(groupKey);
    const hook = await actionWebhook(db.pool, TENANT, 'pagerduty-update-object-priority', 'updateTicketByExternalId',
      { external_id: 'event.data.incident_key', priority: 'event.data.priority' }, { mapping_namespace: NAMESPACE });
    const message = await failure(hook, incidentBody(groupKey));
    expect(message).toContain('field "priority"');
    expect(message).toContain('expected a priority id or name (string)');
    expect(message).toContain('got an object');
    expect(await ticket(before.ticket_id)).toEqual(before);
  });

  it('fails when no field to update has a value, naming the fields it expected', async () => {
    const groupKey = '{}:{alertname="NothingMapped"}';
    const before = await alertTicket(groupKey);
    const hook = await actionWebhook(db.pool, TENANT, 'pagerduty-update-nothing', 'updateTicketByExternalId',
      { external_id: 'event.data.incident_key', status: 'event.data.no_such_field', title: 'null' }, { mapping_namespace: NAMESPACE });
    const message = await failure(hook, incidentBody(groupKey));
    expect(message).toContain('at least one of "status", "priority", "assigned_to", "board", "title", "description"');
    expect(message).toContain('got none');
    expect(await ticket(before.ticket_id)).toEqual(before);
  });

  it('an assignee who is no user fails naming the field and the value', async () => {
    const groupKey = '{}:{alertname="NoSuchUser"}';
    const before = await alertTicket(groupKey);
    const hook = await actionWebhook(db.pool, TENANT, 'pagerduty-update-assignee', 'updateTicketByExternalId',
      { external_id: 'event.data.incident_key', status: '"In Progress"', assigned_to: '$lowercase(event.data.assignees[0].summary)' },
      { mapping_namespace: NAMESPACE });
    const message = await failure(hook, incidentBody(groupKey));
    expect(message).toContain('field "assigned_to"');
    expect(message).toContain('no user with id or email "user 123"');
    expect(await ticket(before.ticket_id)).toEqual(before); // the status change rolled back with it
  });

  it('a lookup miss fails naming the external id and the entity type, also outside the shared namespace', async () => {
    const tickets = await ticketCount();
    // The sample's own incident key: no ticket was ever opened for it.
    const unknown = pagerduty.event.data.incident_key as string;
    const message = await failure(update, incidentBody(unknown));
    expect(message).toContain('field "external_id"');
    expect(message).toContain(`no ticket with external id ${JSON.stringify(unknown)}`);
    expect(message).toContain('webhook:alertmanager');

    // A known group key, but sent to a webhook that keeps its own namespace.
    const own = await actionWebhook(db.pool, TENANT, 'pagerduty-own', 'updateTicketByExternalId', updateMapping);
    const elsewhere = await failure(own, incidentBody(alertmanager.groupKey));
    expect(elsewhere).toContain(`no ticket with external id ${JSON.stringify(alertmanager.groupKey)}`);
    expect(elsewhere).toContain('webhook:pagerduty-own');
    expect(await ticketCount()).toBe(tickets);
  });
});

describe('changeTicketStatusByExternalId', () => {
  let status: CreatedWebhook;
  beforeAll(async () => {
    status = await actionWebhook(db.pool, TENANT, 'alertmanager-status', 'changeTicketStatusByExternalId',
      { external_id: 'groupKey', status: 'status = "resolved" ? "Resolved" : "In Progress"' }, { mapping_namespace: NAMESPACE });
  });

  it('a resolved alert closes its ticket (closed_at set); firing again reopens it (closed_at cleared)', async () => {
    const groupKey = '{}:{alertname="DiskFull"}';
    const before = await alertTicket(groupKey);

    const resolved = await send(status, alertBody(groupKey, 'resolved'));
    expect(resolved.error_message).toBeNull();
    expect(resolved.handler_outcome).toEqual({
      action: 'changeTicketStatusByExternalId', ticket_id: before.ticket_id, ticket_number: before.ticket_number,
      previous_status: 'New', status: 'Resolved', changed: true, closed: true,
    });
    const closed = await ticket(before.ticket_id);
    expect(closed).toMatchObject({ status_name: 'Resolved', title: before.title, priority_name: 'Critical' });
    expect(closed.closed_at).toBeInstanceOf(Date);
    expect(closed.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());

    // Resolved again (Alertmanager repeats notifications): nothing changes, closed_at stays.
    const repeat = await send(status, alertBody(groupKey, 'resolved'));
    expect(repeat.handler_outcome).toMatchObject({ previous_status: 'Resolved', status: 'Resolved', changed: false, closed: true });
    expect(await ticket(before.ticket_id)).toEqual(closed);

    const firing = await send(status, alertBody(groupKey, 'firing'));
    expect(firing.handler_outcome).toMatchObject({ previous_status: 'Resolved', status: 'In Progress', changed: true, closed: false });
    expect(await ticket(before.ticket_id)).toMatchObject({ status_name: 'In Progress', closed_at: null });
  });

  it('moving between two closed statuses keeps the first closed_at', async () => {
    const groupKey = '{}:{alertname="CertExpiry"}';
    const before = await alertTicket(groupKey);
    const byName = await actionWebhook(db.pool, TENANT, 'alertmanager-status-by-label', 'changeTicketStatusByExternalId',
      { external_id: 'groupKey', status: 'commonLabels.psa_status' }, { mapping_namespace: NAMESPACE });
    const withStatus = (name: string) => ({ ...alertBody(groupKey), commonLabels: { ...alertmanager.commonLabels, psa_status: name } });
    expect((await send(byName, withStatus('resolved'))).handler_outcome).toMatchObject({ status: 'Resolved', closed: true });
    const resolved = await ticket(before.ticket_id);
    expect((await send(byName, withStatus('CLOSED'))).handler_outcome).toMatchObject({ previous_status: 'Resolved', status: 'Closed', changed: true });
    const closed = await ticket(before.ticket_id);
    expect(closed.status_name).toBe('Closed');
    expect(closed.closed_at).toEqual(resolved.closed_at);
  });

  it('a status of the wrong type, or one the tenant does not have, fails validation', async () => {
    const groupKey = '{}:{alertname="WrongStatus"}';
    const before = await alertTicket(groupKey);
    const arrayStatus = await actionWebhook(db.pool, TENANT, 'alertmanager-status-array', 'changeTicketStatusByExternalId',
      { external_id: 'groupKey', status: 'alerts.status' }, { mapping_namespace: NAMESPACE });
    const message = await failure(arrayStatus, { ...alertBody(groupKey), alerts: [alertmanager.alerts[0], alertmanager.alerts[0]] });
    expect(message).toContain('field "status"');
    expect(message).toContain('expected a ticket status id or name (string)');
    expect(message).toContain('got an array');

    const rawStatus = await actionWebhook(db.pool, TENANT, 'alertmanager-status-raw', 'changeTicketStatusByExternalId',
      { external_id: 'groupKey', status: 'status' }, { mapping_namespace: NAMESPACE });
    const unknown = await failure(rawStatus, alertBody(groupKey));
    expect(unknown).toContain('field "status"');
    expect(unknown).toContain('"firing"');
    for (const known of ['New', 'In Progress', 'Resolved', 'Closed']) expect(unknown).toContain(known);
    expect(await ticket(before.ticket_id)).toEqual(before);
  });

  it('a lookup miss fails naming the external id and the entity type', async () => {
    const groupKey = '{}:{alertname="NeverFired"}';
    const message = await failure(status, alertBody(groupKey, 'resolved'));
    expect(message).toContain('field "external_id"');
    expect(message).toContain(`no ticket with external id ${JSON.stringify(groupKey)}`);
    expect(message).toContain('webhook:alertmanager');
  });
});

describe('addTicketCommentByExternalId', () => {
  const notesMapping = {
    external_id: 'groupKey',
    body: '"[" & $uppercase(status) & "] " & commonAnnotations.description',
    author_label: '"Alertmanager (" & receiver & ")"',
  };
  let notes: CreatedWebhook;
  beforeAll(async () => {
    notes = await actionWebhook(db.pool, TENANT, 'alertmanager-notes', 'addTicketCommentByExternalId', notesMapping, { mapping_namespace: NAMESPACE });
  });

  async function comments(ticketId: string) {
    const { rows } = await db.pool.query(`select * from psa.ticket_comments where tenant = $1 and ticket_id = $2 order by created_at, comment_id`, [tenant, ticketId]);
    return rows;
  }

  it('adds an internal comment by default, and a public one when is_internal maps to false', async () => {
    const groupKey = '{}:{alertname="MemoryPressure"}';
    const before = await alertTicket(groupKey);

    const first = await send(notes, alertBody(groupKey, 'resolved'));
    expect(first.error_message).toBeNull();
    const [internal, ...rest] = await comments(before.ticket_id);
    expect(rest).toEqual([]);
    expect(internal).toMatchObject({
      tenant,
      ticket_id: before.ticket_id,
      body: `[RESOLVED] ${alertmanager.commonAnnotations.description}`,
      is_internal: true,
      author_label: 'Alertmanager (alga-psa)',
      author_user_id: null,
      source: 'inbound_webhook',
    });
    expect(first.handler_outcome).toEqual({
      action: 'addTicketCommentByExternalId', ticket_id: before.ticket_id, comment_id: internal.comment_id, is_internal: true, created: true,
    });

    const clientNotes = await actionWebhook(db.pool, TENANT, 'alertmanager-client-notes', 'addTicketCommentByExternalId',
      { external_id: 'groupKey', body: '"Service restored: " & commonAnnotations.summary', is_internal: '"false"' }, { mapping_namespace: NAMESPACE });
    const second = await send(clientNotes, alertBody(groupKey, 'resolved'));
    expect(second.error_message).toBeNull();
    const all = await comments(before.ticket_id);
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({
      comment_id: second.handler_outcome.comment_id,
      body: `Service restored: ${alertmanager.commonAnnotations.summary}`,
      is_internal: false,
      author_label: null,
      source: 'inbound_webhook',
    });
    // Commenting does not change the ticket.
    expect(await ticket(before.ticket_id)).toEqual(before);
  });

  it('a body or flag of the wrong type fails validation naming the field, the type and the value', async () => {
    const groupKey = '{}:{alertname="BadComment"}';
    const before = await alertTicket(groupKey);
    const arrayBody = await actionWebhook(db.pool, TENANT, 'alertmanager-notes-array', 'addTicketCommentByExternalId',
      { external_id: 'groupKey', body: 'alerts.annotations.description' }, { mapping_namespace: NAMESPACE });
    const two = { ...alertBody(groupKey), alerts: [alertmanager.alerts[0], alertmanager.alerts[0]] };
    const message = await failure(arrayBody, two);
    expect(message).toContain('field "body"');
    expect(message).toContain('expected string');
    expect(message).toContain('got an array');

    const badFlag = await actionWebhook(db.pool, TENANT, 'alertmanager-notes-flag', 'addTicketCommentByExternalId',
      { external_id: 'groupKey', body: 'commonAnnotations.summary', is_internal: 'commonLabels.severity' }, { mapping_namespace: NAMESPACE });
    const flag = await failure(badFlag, alertBody(groupKey));
    expect(flag).toContain('field "is_internal"');
    expect(flag).toContain('expected boolean');
    expect(flag).toContain('"critical" (string)');
    expect(await comments(before.ticket_id)).toEqual([]);
  });

  it('a lookup miss fails naming the external id and the entity type, and writes no comment', async () => {
    const groupKey = '{}:{alertname="Unknown"}';
    const message = await failure(notes, alertBody(groupKey));
    expect(message).toContain('field "external_id"');
    expect(message).toContain(`no ticket with external id ${JSON.stringify(groupKey)}`);
    expect(message).toContain('webhook:alertmanager');
    const { rows } = await db.pool.query(`select count(*)::int as n from psa.ticket_comments where tenant = $1 and body like '%Unknown%'`, [tenant]);
    expect(rows[0].n).toBe(0);
  });
});
