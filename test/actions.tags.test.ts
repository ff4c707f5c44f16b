// addTagToEntityByExternalId end to end through the receiver and the worker: an Opsgenie alert's
// tag on the ticket createTicket opened for it, a Zabbix event's tag on the client its host group
// names. A tag is one row whatever its case; tagging twice is one link; a new tag created by two
// deliveries at once is one tag. Unknown entity types fail validation; unknown ids miss.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedWebhook } from '../core/webhooks.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { actionWebhook, deliver } from './support/inbound.ts';
import { makeTenant, startTestServer, type TestServer } from './support/server.ts';

const TENANT = 'tags';
const sample = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/samples/${name}`, import.meta.url), 'utf8')) as Record<string, any>;
const opsgenie = sample('opsgenie-alert.create.json');
const zabbix = sample('zabbix-problem.eda-webhook.json');

let db: TestDatabase;
let server: TestServer;
let tenant: string;
let ticketId: string;
let clientId: string;
let ticketTags: CreatedWebhook;
let clientTags: CreatedWebhook;

const send = (hook: CreatedWebhook, body: unknown) => deliver(db.pool, server.url, TENANT, hook, body);

/** The Opsgenie sample with other tags. */
const alertWithTags = (tags: string[], alertId = opsgenie.alert.alertId) => ({ ...opsgenie, alert: { ...opsgenie.alert, alertId, tags } });
/** The Zabbix sample with another scope tag and host groups. */
const eventWithScope = (scope: string, hostGroups = zabbix.host_groups) => ({ ...zabbix, host_groups: hostGroups, event_tags: { ...zabbix.event_tags, scope: [scope] } });

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  tenant = await makeTenant(db.pool, TENANT);

  // The ticket: opened by Opsgenie's create webhook, which records alert.alertId (namespace "opsgenie").
  const create = await actionWebhook(db.pool, TENANT, 'opsgenie', 'createTicket', { title: '$trim(alert.message)', external_id: 'alert.alertId' });
  const created = await send(create, opsgenie);
  expect(created.error_message).toBeNull();
  ticketId = created.handler_outcome.ticket_id;

  // The client: known to the Zabbix webhooks by its host group name.
  const { rows } = await db.pool.query(`insert into psa.clients (tenant, client_name) values ($1, 'Acme Corp') returning client_id`, [tenant]);
  clientId = rows[0].client_id;
  await db.pool.query(
    `insert into psa.tenant_external_entity_mappings (tenant, integration_type, alga_entity_type, alga_entity_id, external_entity_id)
     values ($1, 'webhook:zabbix', 'client', $2, 'Acme Corp')`,
    [tenant, clientId],
  );

  ticketTags = await actionWebhook(db.pool, TENANT, 'opsgenie-tags', 'addTagToEntityByExternalId',
    { entity_type: '"ticket"', external_id: 'alert.alertId', tag: 'alert.tags[0]' }, { mapping_namespace: 'opsgenie' });
  clientTags = await actionWebhook(db.pool, TENANT, 'zabbix-tags', 'addTagToEntityByExternalId',
    { entity_type: '"client"', external_id: 'host_groups[1]', tag: 'event_tags.scope[0]' }, { mapping_namespace: 'zabbix' });
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

async function tags(text: string) {
  const { rows } = await db.pool.query(`select * from psa.tags where tenant = $1 and lower(tag_text) = lower($2)`, [tenant, text.trim()]);
  return rows;
}

async function links(tagId: string) {
  const { rows } = await db.pool.query(
    `select tenant, tag_id, tagged_type, tagged_id from psa.tag_links where tenant = $1 and tag_id = $2 order by tagged_type`, [tenant, tagId]);
  return rows;
}

async function failure(hook: CreatedWebhook, body: unknown): Promise<string> {
  const delivery = await send(hook, body);
  expect(delivery.dispatch_status).toBe('failed');
  expect(delivery.retry_count).toBe(0);
  expect(delivery.handler_outcome).toEqual({ error: delivery.error_message });
  return delivery.error_message;
}

describe('addTagToEntityByExternalId', () => {
  it('tags a ticket by its external id; the same tag twice is one link', async () => {
    const first = await send(ticketTags, opsgenie);
    expect(first.error_message).toBeNull();
    const [tag, ...others] = await tags('tag1');
    expect(others).toEqual([]);
    expect(tag).toMatchObject({ tenant, tag_text: 'tag1' });
    expect(await links(tag.tag_id)).toEqual([{ tenant, tag_id: tag.tag_id, tagged_type: 'ticket', tagged_id: ticketId }]);
    expect(first.handler_outcome).toEqual({
      action: 'addTagToEntityByExternalId', tag_id: tag.tag_id, tag_text: 'tag1', tag_created: true,
      entity_type: 'ticket', entity_id: ticketId, created: true,
    });

    const second = await send(ticketTags, opsgenie);
    expect(second.dispatch_status).toBe('dispatched');
    expect(second.handler_outcome).toMatchObject({ tag_id: tag.tag_id, tag_created: false, created: false });
    expect(await tags('tag1')).toEqual([tag]);
    expect(await links(tag.tag_id)).toHaveLength(1);
  });

  it('tags a client by its external id, and reuses the tag whatever its case', async () => {
    const onClient = await send(clientTags, eventWithScope('Availability'));
    expect(onClient.error_message).toBeNull();
    const [tag] = await tags('availability');
    expect(tag.tag_text).toBe('Availability');
    expect(onClient.handler_outcome).toMatchObject({ tag_id: tag.tag_id, tag_created: true, entity_type: 'client', entity_id: clientId, created: true });

    // Opsgenie sends it upper-cased with stray spaces: the same tag, a new link on the ticket.
    const onTicket = await send(ticketTags, alertWithTags(['  AVAILABILITY ', 'network']));
    expect(onTicket.error_message).toBeNull();
    expect(onTicket.handler_outcome).toMatchObject({ tag_id: tag.tag_id, tag_text: 'Availability', tag_created: false, entity_id: ticketId, created: true });
    expect(await tags('availability')).toEqual([tag]);
    expect(await links(tag.tag_id)).toEqual([
      { tenant, tag_id: tag.tag_id, tagged_type: 'client', tagged_id: clientId },
      { tenant, tag_id: tag.tag_id, tagged_type: 'ticket', tagged_id: ticketId },
    ]);
  });

  it('one new tag sent by two webhooks at once is one tag with two links', async () => {
    const [a, b] = await Promise.all([send(ticketTags, alertWithTags(['Escalated'])), send(clientTags, eventWithScope('ESCALATED'))]);
    for (const delivery of [a, b]) {
      expect(delivery.error_message).toBeNull();
      expect(delivery.dispatch_status).toBe('dispatched');
      expect(delivery.retry_count).toBe(0);
    }
    const [tag, ...others] = await tags('escalated');
    expect(others).toEqual([]);
    expect([a.handler_outcome.tag_id, b.handler_outcome.tag_id]).toEqual([tag.tag_id, tag.tag_id]);
    expect([a.handler_outcome.tag_created, b.handler_outcome.tag_created].sort()).toEqual([false, true]);
    expect((await links(tag.tag_id)).map((l) => l.tagged_type)).toEqual(['client', 'ticket']);
  });

  it('an entity type that cannot be tagged fails validation naming entity_type, the allowed types and the value', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'opsgenie-tags-alert', 'addTagToEntityByExternalId',
      { entity_type: '"alert"', external_id: 'alert.alertId', tag: 'alert.tags[0]' }, { mapping_namespace: 'opsgenie' });
    const message = await failure(hook, alertWithTags(['never-stored']));
    expect(message).toContain('field "entity_type"');
    expect(message).toContain('expected one of "ticket", "client", "contact", "asset", "invoice", "project", "project_task", "time_entry"');
    expect(message).toContain('got "alert" (string)');
    expect(await tags('never-stored')).toEqual([]);
  });

  it('a tag longer than 100 characters, or not text, fails validation naming the field', async () => {
    const long = await failure(ticketTags, alertWithTags(['x'.repeat(101)]));
    expect(long).toContain('field "tag"');
    expect(long).toContain('expected at most 100 characters');
    expect(long).toContain('101 characters');

    const notText = await failure(clientTags, { ...zabbix, event_tags: { ...zabbix.event_tags, scope: [{ name: 'availability' }] } });
    expect(notText).toContain('field "tag"');
    expect(notText).toContain('expected string');
    expect(notText).toContain('got an object');
    const { rows } = await db.pool.query(`select count(*)::int as n from psa.tags where tenant = $1 and length(tag_text) > 100`, [tenant]);
    expect(rows[0].n).toBe(0);
  });

  it('a lookup miss fails naming the external id and the entity type, and creates no tag', async () => {
    const unknownAlert = await failure(ticketTags, alertWithTags(['orphan'], '00000000-0000-4000-8000-000000000000'));
    expect(unknownAlert).toContain('field "external_id"');
    expect(unknownAlert).toContain('no ticket with external id "00000000-0000-4000-8000-000000000000"');
    expect(unknownAlert).toContain('webhook:opsgenie');

    const unknownClient = await failure(clientTags, eventWithScope('orphan', ['Linux servers', 'Globex']));
    expect(unknownClient).toContain('no client with external id "Globex"');
    expect(unknownClient).toContain('webhook:zabbix');

    // The external id is known, but as a ticket, not a client.
    const wrongType = await actionWebhook(db.pool, TENANT, 'opsgenie-tags-client', 'addTagToEntityByExternalId',
      { entity_type: '"client"', external_id: 'alert.alertId', tag: 'alert.tags[0]' }, { mapping_namespace: 'opsgenie' });
    const asClient = await failure(wrongType, alertWithTags(['orphan']));
    expect(asClient).toContain(`no client with external id ${JSON.stringify(opsgenie.alert.alertId)}`);
    expect(await tags('orphan')).toEqual([]);
  });

  it('an external id whose entity is gone fails instead of linking nothing', async () => {
    await db.pool.query(
      `insert into psa.tenant_external_entity_mappings (tenant, integration_type, alga_entity_type, alga_entity_id, external_entity_id)
       values ($1, 'webhook:zabbix', 'client', gen_random_uuid(), 'Initech')`,
      [tenant],
    );
    const message = await failure(clientTags, eventWithScope('dangling', ['Linux servers', 'Initech']));
    expect(message).toContain('external id "Initech" maps to client');
    expect(message).toContain('no longer exists');
    expect(await tags('dangling')).toEqual([]);
  });
});
