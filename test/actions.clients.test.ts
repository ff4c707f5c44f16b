// Client and contact actions end to end (signed request in, rows out): upsertClientByExternalId
// creates then updates one client per external id, also when two first deliveries race;
// setClientActiveByExternalId flips is_inactive; upsertContactByExternalId links the contact to a
// client by the client's external id (Square's invoice recipient) or id. Validation failures
// and lookup misses fail the delivery with a message naming the field, and write nothing.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionWebhook, deliver } from './support/inbound.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { makeTenant, startTestServer, type TestServer } from './support/server.ts';

const TENANT = 'acme-msp';
const sample = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/samples/${name}`, import.meta.url), 'utf8')) as Record<string, any>;
const square = sample('square-invoice.payment_made.json');
const recipient = square.data.object.invoice.primary_recipient as Record<string, string>;

let db: TestDatabase;
let server: TestServer;
let tenant: string;
beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  tenant = await makeTenant(db.pool, TENANT);
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

type Hook = Awaited<ReturnType<typeof actionWebhook>>;
const send = (hook: Hook, body: unknown) => deliver(db.pool, server.url, TENANT, hook, body);

/** A CRM's company webhook (HubSpot-like), the body a client upsert is usually fed from. */
function company(id: string, overrides: Record<string, unknown> = {}) {
  return {
    eventType: 'company.propertyChange',
    occurredAt: 1767225600000,
    company: {
      id,
      name: 'Northwind Traders',
      domain: 'northwind.example',
      website: 'https://northwind.example',
      phone: '+1 212 555 0100',
      email: 'it@northwind.example',
      lifecycle: 'customer',
      archived: false,
      description: 'Managed since 2024; 40 seats.',
      ...overrides,
    },
  };
}

const clientMapping = {
  external_id: 'company.id',
  client_name: 'company.name',
  email: 'company.email',
  phone_no: 'company.phone',
  url: 'company.website',
  notes: 'company.description',
  is_inactive: 'company.archived',
};

async function clientRows(where = 'true', params: unknown[] = []) {
  const { rows } = await db.pool.query(`select * from psa.clients where tenant = $1 and ${where} order by created_at`, [tenant, ...params]);
  return rows;
}

async function mappingRows(entityType: string, externalId: string) {
  const { rows } = await db.pool.query(
    `select * from psa.tenant_external_entity_mappings where tenant = $1 and alga_entity_type = $2 and external_entity_id = $3`,
    [tenant, entityType, externalId],
  );
  return rows;
}

async function count(table: string): Promise<number> {
  const { rows } = await db.pool.query(`select count(*)::int as n from ${table} where tenant = $1`, [tenant]);
  return rows[0].n;
}

function expectFailed(delivery: any, ...fragments: string[]) {
  expect(delivery.dispatch_status).toBe('failed');
  expect(delivery.handler_outcome).toEqual({ error: delivery.error_message });
  for (const fragment of fragments) expect(delivery.error_message).toContain(fragment);
}

describe('upsertClientByExternalId', () => {
  it('creates the client and its mapping, then updates the same row for the same external id', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'crm-companies', 'upsertClientByExternalId', clientMapping);
    const first = await send(hook, company('C-1001'));
    expect(first.error_message).toBeNull();
    expect(first.dispatch_status).toBe('dispatched');
    const [created] = await clientRows(`client_id = $2`, [first.handler_outcome.client_id]);
    expect(created).toMatchObject({
      client_name: 'Northwind Traders',
      email: 'it@northwind.example',
      phone_no: '+1 212 555 0100',
      url: 'https://northwind.example',
      notes: 'Managed since 2024; 40 seats.',
      is_inactive: false,
    });
    expect(first.handler_outcome).toMatchObject({ action: 'upsertClientByExternalId', client_id: created.client_id, created: true });
    const mappings = await mappingRows('client', 'C-1001');
    expect(mappings).toHaveLength(1);
    expect(mappings[0]).toMatchObject({ integration_type: 'webhook:crm-companies', alga_entity_id: created.client_id, external_realm_id: null });
    expect(mappings[0].metadata).toMatchObject({ source: 'inbound_webhook', inbound_webhook_id: hook.id, delivery_id: first.delivery_id });

    // The company is renamed and archived; it has no email any more (null keeps the old one).
    const second = await send(hook, company('C-1001', { name: 'Northwind Traders GmbH', archived: true, email: null, phone: '+49 30 555 0100' }));
    expect(second.error_message).toBeNull();
    expect(second.handler_outcome).toMatchObject({ client_id: created.client_id, created: false });
    const rows = await clientRows(`client_id = $2`, [created.client_id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      client_name: 'Northwind Traders GmbH',
      email: 'it@northwind.example',
      phone_no: '+49 30 555 0100',
      is_inactive: true,
    });
    expect(rows[0].updated_at.getTime()).toBeGreaterThan(created.updated_at.getTime());
    expect(await clientRows(`client_name like 'Northwind%'`)).toHaveLength(1);
    expect(await mappingRows('client', 'C-1001')).toHaveLength(1);
  });

  it('two concurrent first deliveries of one external id make one client and one mapping', async () => {
    // Two webhooks (two queues, so the worker runs them in parallel) sharing one namespace.
    const a = await actionWebhook(db.pool, TENANT, 'crm-created', 'upsertClientByExternalId', clientMapping, { mapping_namespace: 'crm' });
    const b = await actionWebhook(db.pool, TENANT, 'crm-updated', 'upsertClientByExternalId', clientMapping, { mapping_namespace: 'crm' });
    for (let round = 0; round < 3; round++) {
      const externalId = `C-RACE-${round}`;
      const deliveries = await Promise.all([
        send(a, company(externalId, { name: `Race ${round} (created)` })),
        send(b, company(externalId, { name: `Race ${round} (updated)` })),
      ]);
      for (const d of deliveries) expect(d.error_message).toBeNull();
      expect(deliveries.map((d) => d.handler_outcome.created).sort()).toEqual([false, true]);
      expect(deliveries[0].handler_outcome.client_id).toBe(deliveries[1].handler_outcome.client_id);
      expect(await clientRows(`client_name like $2`, [`Race ${round} %`])).toHaveLength(1);
      const mappings = await mappingRows('client', externalId);
      expect(mappings).toHaveLength(1);
      expect(mappings[0]).toMatchObject({ integration_type: 'webhook:crm', alga_entity_id: deliveries[0].handler_outcome.client_id });
    }
  });

  it('a value of the wrong type fails the delivery naming the field, the type and the value', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'crm-bad-flag', 'upsertClientByExternalId', { ...clientMapping, is_inactive: 'company.lifecycle' });
    const before = await count('psa.clients');
    expectFailed(await send(hook, company('C-2001')), 'field "is_inactive"', 'expected boolean', '"customer" (string)');
    expect(await count('psa.clients')).toBe(before);
    expect(await mappingRows('client', 'C-2001')).toEqual([]);
  });

  it('a new external id without client_name fails naming client_name; an update does not need it', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'crm-partial', 'upsertClientByExternalId', {
      external_id: 'company.id', client_name: 'company.name', is_inactive: 'company.archived',
    });
    const before = await count('psa.clients');
    expectFailed(await send(hook, company('C-3001', { name: null })), 'field "client_name"', 'C-3001', 'client');
    expect(await count('psa.clients')).toBe(before);

    const created = await send(hook, company('C-3001', { name: 'Contoso' }));
    expect(created.handler_outcome).toMatchObject({ created: true });
    const updated = await send(hook, company('C-3001', { name: null, archived: true }));
    expect(updated.error_message).toBeNull();
    expect(updated.handler_outcome).toMatchObject({ client_id: created.handler_outcome.client_id, created: false });
    expect(await clientRows(`client_id = $2`, [created.handler_outcome.client_id])).toMatchObject([{ client_name: 'Contoso', is_inactive: true }]);
  });
});

describe('setClientActiveByExternalId', () => {
  it('deactivates and reactivates the client the external id maps to', async () => {
    const upsert = await actionWebhook(db.pool, TENANT, 'billing-customers', 'upsertClientByExternalId', clientMapping, { mapping_namespace: 'billing' });
    const status = await actionWebhook(db.pool, TENANT, 'billing-status', 'setClientActiveByExternalId', {
      external_id: 'company.id',
      is_active: 'company.lifecycle != "churned"',
    }, { mapping_namespace: 'billing' });
    const made = await send(upsert, company('B-77', { name: 'Fabrikam' }));
    const clientId = made.handler_outcome.client_id;

    const off = await send(status, company('B-77', { lifecycle: 'churned' }));
    expect(off.error_message).toBeNull();
    expect(off.dispatch_status).toBe('dispatched');
    expect(off.handler_outcome).toEqual({ action: 'setClientActiveByExternalId', client_id: clientId, is_active: false, changed: true });
    expect(await clientRows(`client_id = $2`, [clientId])).toMatchObject([{ client_name: 'Fabrikam', is_inactive: true }]);

    const again = await send(status, company('B-77', { lifecycle: 'churned' }));
    expect(again.handler_outcome).toMatchObject({ is_active: false, changed: false });

    const on = await send(status, company('B-77'));
    expect(on.handler_outcome).toMatchObject({ client_id: clientId, is_active: true, changed: true });
    expect(await clientRows(`client_id = $2`, [clientId])).toMatchObject([{ is_inactive: false }]);
  });

  it('an unknown external id fails naming the id and the entity type', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'status-unknown', 'setClientActiveByExternalId', {
      external_id: 'company.id', is_active: 'company.archived = false',
    });
    const before = await clientRows();
    expectFailed(await send(hook, company('C-NOPE')), 'field "external_id"', 'no client with external id "C-NOPE"', 'webhook:status-unknown');
    expect(await clientRows()).toEqual(before);
  });

  it('a value that is not a boolean fails naming the field and the type', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'status-bad', 'setClientActiveByExternalId', {
      external_id: 'company.id', is_active: 'company.lifecycle',
    });
    expectFailed(await send(hook, company('C-1001')), 'field "is_active"', 'expected boolean', '"customer" (string)');
  });
});

describe('upsertContactByExternalId', () => {
  // Square's invoice recipient is a customer (the client) and the person at it (the contact):
  // both keyed by customer_id, in one namespace with the customer webhook.
  const contactMapping = {
    external_id: 'data.object.invoice.primary_recipient.customer_id',
    full_name: 'data.object.invoice.primary_recipient.(given_name & " " & family_name)',
    email: 'data.object.invoice.primary_recipient.email_address',
    phone_number: 'data.object.invoice.primary_recipient.phone_number',
    client: 'data.object.invoice.primary_recipient.customer_id',
  };

  it('creates a contact linked to a client by the client\'s external id, then updates it', async () => {
    const customers = await actionWebhook(db.pool, TENANT, 'square-customers', 'upsertClientByExternalId', clientMapping, { mapping_namespace: 'square' });
    const invoices = await actionWebhook(db.pool, TENANT, 'square-invoices', 'upsertContactByExternalId', contactMapping, { mapping_namespace: 'square' });
    const client = await send(customers, company(recipient.customer_id!, { name: 'Earhart Aviation' }));
    const clientId = client.handler_outcome.client_id;

    const first = await send(invoices, square);
    expect(first.error_message).toBeNull();
    expect(first.dispatch_status).toBe('dispatched');
    const { rows } = await db.pool.query(`select * from psa.contacts where tenant = $1`, [tenant]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      full_name: 'Amelia Earhart',
      email: 'Amelia.Earhart@example.com',
      phone_number: '1-212-555-4240',
      role: null,
      client_id: clientId,
      is_inactive: false,
    });
    expect(first.handler_outcome).toMatchObject({ contact_name_id: rows[0].contact_name_id, client_id: clientId, created: true });
    const mappings = await mappingRows('contact', recipient.customer_id!);
    expect(mappings).toHaveLength(1);
    expect(mappings[0]).toMatchObject({ integration_type: 'webhook:square', alga_entity_id: rows[0].contact_name_id });

    const changed = structuredClone(square);
    changed.data.object.invoice.primary_recipient.email_address = 'amelia@earhart.example';
    const second = await send(invoices, changed);
    expect(second.handler_outcome).toMatchObject({ contact_name_id: rows[0].contact_name_id, created: false });
    const { rows: after } = await db.pool.query(`select * from psa.contacts where tenant = $1`, [tenant]);
    expect(after).toMatchObject([{ contact_name_id: rows[0].contact_name_id, email: 'amelia@earhart.example', client_id: clientId }]);
  });

  it('takes a client id as the client reference too', async () => {
    const { rows } = await db.pool.query(`insert into psa.clients (tenant, client_name) values ($1, 'Litware') returning client_id`, [tenant]);
    const hook = await actionWebhook(db.pool, TENANT, 'hr-people', 'upsertContactByExternalId', {
      external_id: 'person.id', full_name: 'person.name', role: 'person.title', client: 'person.company_id',
    });
    const d = await send(hook, { person: { id: 'P-9', name: 'Dana Fox', title: 'Office manager', company_id: rows[0].client_id } });
    expect(d.error_message).toBeNull();
    const { rows: contacts } = await db.pool.query(`select * from psa.contacts where tenant = $1 and contact_name_id = $2`, [tenant, d.handler_outcome.contact_name_id]);
    expect(contacts).toMatchObject([{ full_name: 'Dana Fox', role: 'Office manager', client_id: rows[0].client_id }]);
  });

  it('a client reference that resolves to nothing fails naming the field, the value and the entity type', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'square-orphans', 'upsertContactByExternalId', contactMapping);
    const before = await count('psa.contacts');
    expectFailed(await send(hook, square), 'field "client"', `no client with id or external id ${JSON.stringify(recipient.customer_id)}`, 'webhook:square-orphans');
    expect(await count('psa.contacts')).toBe(before);
    expect(await mappingRows('contact', recipient.customer_id!)).toHaveLength(1); // only the first test's, in webhook:square
  });

  it('a value of the wrong type fails naming the field, the type and the value', async () => {
    const { client: _unused, ...withoutClient } = contactMapping;
    const hook = await actionWebhook(db.pool, TENANT, 'square-bad-email', 'upsertContactByExternalId', {
      ...withoutClient, email: 'data.object.invoice.primary_recipient',
    });
    const before = await count('psa.contacts');
    expectFailed(await send(hook, square), 'field "email"', 'expected string', 'an object');
    expect(await count('psa.contacts')).toBe(before);
  });

  it('a new external id without full_name fails naming full_name', async () => {
    const hook = await actionWebhook(db.pool, TENANT, 'hr-nameless', 'upsertContactByExternalId', { external_id: 'person.id', full_name: 'person.name' });
    const before = await count('psa.contacts');
    expectFailed(await send(hook, { person: { id: 'P-10' } }), 'field "full_name"', 'required', 'P-10');
    expect(await count('psa.contacts')).toBe(before);
  });
});
