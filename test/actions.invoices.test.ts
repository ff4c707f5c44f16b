// Invoice actions end to end (signed request in, rows out): markInvoicePaidByExternalId records
// a partial then a full payment from Stripe- and Square-shaped bodies, ignores a repeated
// payment reference, refuses a cancelled invoice and fails on bad amounts and unknown invoices;
// updateInvoiceStatusByExternalId sets and clears paid_at with the status.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { actionWebhook, deliver } from './support/inbound.ts';
import { makeTenant, startTestServer, type TestServer } from './support/server.ts';

const TENANT = 'invoices';
const sample = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/samples/${name}`, import.meta.url), 'utf8')) as Record<string, any>;
const stripeSucceeded = sample('stripe-invoice.payment_succeeded.json');
const stripePaid = sample('stripe-invoice.paid.json');
const squarePaymentMade = sample('square-invoice.payment_made.json');
const STRIPE_INVOICE = stripeSucceeded.data.object.id as string; // in_1Pgc6tB7WZ01zgkWu9fdqL6I
const SQUARE_INVOICE = squarePaymentMade.data.id as string; // inv:0-ChCHu2mZEabLeeHahQnXDjZQECY

/** The Stripe event with its invoice object changed (amounts in cents, as Stripe sends them). */
function stripeEvent(base: Record<string, any>, invoice: Record<string, unknown>, eventId?: string) {
  return { ...base, ...(eventId ? { id: eventId } : {}), data: { object: { ...base.data.object, ...invoice } } };
}

/** The Square event with the first payment request's amounts set (in cents). */
function squareEvent(cents: number) {
  const body = structuredClone(squarePaymentMade);
  const request = body.data.object.invoice.payment_requests[0];
  request.computed_amount_money.amount = cents;
  request.total_completed_amount_money.amount = cents;
  return body;
}

// The payment mappings the README of the samples suggests, cents divided into dollars. Stripe
// sends invoice.paid and invoice.payment_succeeded for one payment, so its reference is the
// invoice plus the amount paid so far (the same in both events), not the event id.
const stripePayment = {
  external_id: 'data.object.id',
  amount: 'data.object.amount_paid / 100',
  paid_at: 'data.object.status_transitions.paid_at',
  reference: 'data.object.id & ":" & $string(data.object.amount_paid)',
  method: '"card"',
};
const squarePayment = {
  external_id: 'data.id',
  amount: 'data.object.invoice.payment_requests[0].total_completed_amount_money.amount / 100',
  paid_at: 'created_at',
  reference: 'event_id',
  method: '"card"',
};

let db: TestDatabase;
let server: TestServer;
let tenant: string;
let clientId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startTestServer(db.url);
  tenant = await makeTenant(db.pool, TENANT);
  const { rows } = await db.pool.query(`insert into psa.clients (tenant, client_name) values ($1, 'Acme Corp') returning client_id`, [tenant]);
  clientId = rows[0].client_id;
});
afterAll(async () => {
  await server?.stop();
  await db?.drop();
});

/** An invoice owned by the test's client, mapped to `externalId` in each `webhook:<namespace>` given. */
async function seedInvoice(invoiceNumber: string, total: string, status: string, mappings: Record<string, string>): Promise<string> {
  const { rows } = await db.pool.query(
    `insert into psa.invoices (tenant, invoice_number, client_id, status, subtotal, total)
     values ($1, $2, $3, $4, $5, $5) returning invoice_id`,
    [tenant, invoiceNumber, clientId, status, total],
  );
  const invoiceId = rows[0].invoice_id as string;
  for (const [namespace, externalId] of Object.entries(mappings)) {
    await db.pool.query(
      `insert into psa.tenant_external_entity_mappings (tenant, integration_type, alga_entity_type, alga_entity_id, external_entity_id)
       values ($1, $2, 'invoice', $3, $4)`,
      [tenant, `webhook:${namespace}`, invoiceId, externalId],
    );
  }
  return invoiceId;
}

async function invoiceRow(invoiceId: string) {
  const { rows } = await db.pool.query(`select status, amount_paid, total, paid_at from psa.invoices where invoice_id = $1`, [invoiceId]);
  return rows[0];
}

async function paymentsOf(invoiceId: string) {
  const { rows } = await db.pool.query(
    `select payment_id, amount, paid_at, reference, method from psa.invoice_payments where invoice_id = $1 order by paid_at`,
    [invoiceId],
  );
  return rows;
}

describe('markInvoicePaidByExternalId', () => {
  let invoiceId: string;
  let stripeHook: Awaited<ReturnType<typeof actionWebhook>>;
  let squareHook: Awaited<ReturnType<typeof actionWebhook>>;

  beforeAll(async () => {
    // One invoice of 100.00, known to the Stripe and the Square webhook by their own ids.
    invoiceId = await seedInvoice('INV-1001', '100.00', 'sent', { 'stripe-billing': STRIPE_INVOICE, 'square-billing': SQUARE_INVOICE });
    stripeHook = await actionWebhook(db.pool, TENANT, 'stripe-billing', 'markInvoicePaidByExternalId', stripePayment);
    squareHook = await actionWebhook(db.pool, TENANT, 'square-billing', 'markInvoicePaidByExternalId', squarePayment);
  });

  it('a partial then a full payment: partially_paid after 40.00, paid after 60.00, a repeat is not recorded', async () => {
    // 40.00 through Stripe (4000 cents).
    const partial = await deliver(db.pool, server.url, TENANT, stripeHook,
      stripeEvent(stripeSucceeded, { amount_due: 10000, amount_paid: 4000, amount_remaining: 6000, total: 10000, subtotal: 10000, status: 'open' }));
    expect(partial.dispatch_status, partial.error_message).toBe('dispatched');
    expect(partial.handler_outcome).toMatchObject({
      action: 'markInvoicePaidByExternalId', invoice_id: invoiceId, amount_paid: 40, balance: 60, status: 'partially_paid', duplicate_payment: false,
    });
    expect(await invoiceRow(invoiceId)).toEqual({ status: 'partially_paid', amount_paid: '40.00', total: '100.00', paid_at: null });
    const first = await paymentsOf(invoiceId);
    expect(first).toEqual([
      { payment_id: partial.handler_outcome.payment_id, amount: '40.00', paid_at: new Date(1234567890 * 1000), reference: `${STRIPE_INVOICE}:4000`, method: 'card' },
    ]);

    // The remaining 60.00 through Square (6000 cents).
    const full = await deliver(db.pool, server.url, TENANT, squareHook, squareEvent(6000));
    expect(full.dispatch_status, full.error_message).toBe('dispatched');
    expect(full.handler_outcome).toMatchObject({ invoice_id: invoiceId, amount_paid: 100, balance: 0, status: 'paid', duplicate_payment: false });
    expect(full.handler_outcome.payment_id).not.toBe(partial.handler_outcome.payment_id);
    const squarePaidAt = new Date('2020-06-18T18:23:11Z');
    expect(await invoiceRow(invoiceId)).toEqual({ status: 'paid', amount_paid: '100.00', total: '100.00', paid_at: squarePaidAt });
    const payments = await paymentsOf(invoiceId);
    expect(payments).toHaveLength(2);
    expect(payments[1]).toEqual({
      payment_id: full.handler_outcome.payment_id, amount: '60.00', paid_at: squarePaidAt, reference: squarePaymentMade.event_id, method: 'card',
    });

    // Square sends the same event again: the same reference, so no third payment.
    const again = await deliver(db.pool, server.url, TENANT, squareHook, squareEvent(6000));
    expect(again.dispatch_status, again.error_message).toBe('dispatched');
    expect(again.handler_outcome).toMatchObject({
      invoice_id: invoiceId, payment_id: full.handler_outcome.payment_id, amount_paid: 100, balance: 0, status: 'paid', duplicate_payment: true,
    });
    expect(await paymentsOf(invoiceId)).toEqual(payments);
    expect(await invoiceRow(invoiceId)).toEqual({ status: 'paid', amount_paid: '100.00', total: '100.00', paid_at: squarePaidAt });
  });

  it('Stripe\'s invoice.paid and invoice.payment_succeeded for one payment record it once', async () => {
    const id = await seedInvoice('INV-1002', '10.00', 'sent', { 'stripe-billing': 'in_pair_of_events' });
    const invoice = { id: 'in_pair_of_events' }; // the samples' amounts: 1000 cents paid of 1000
    const succeeded = await deliver(db.pool, server.url, TENANT, stripeHook, stripeEvent(stripeSucceeded, invoice));
    const paid = await deliver(db.pool, server.url, TENANT, stripeHook, stripeEvent(stripePaid, invoice));
    expect(succeeded.handler_outcome).toMatchObject({ amount_paid: 10, balance: 0, status: 'paid', duplicate_payment: false });
    expect(paid.handler_outcome).toMatchObject({ amount_paid: 10, balance: 0, status: 'paid', duplicate_payment: true });
    expect(await paymentsOf(id)).toHaveLength(1);
    expect(await invoiceRow(id)).toMatchObject({ status: 'paid', amount_paid: '10.00' });
  });

  it('a cancelled invoice refuses the payment', async () => {
    const id = await seedInvoice('INV-1003', '50.00', 'cancelled', { 'stripe-billing': 'in_cancelled' });
    const delivery = await deliver(db.pool, server.url, TENANT, stripeHook, stripeEvent(stripeSucceeded, { id: 'in_cancelled' }));
    expect(delivery.dispatch_status).toBe('failed');
    expect(delivery.error_message).toContain('INV-1003');
    expect(delivery.error_message).toContain('cancelled');
    expect(await paymentsOf(id)).toEqual([]);
    expect(await invoiceRow(id)).toEqual({ status: 'cancelled', amount_paid: '0.00', total: '50.00', paid_at: null });
  });

  it('an amount that is not a number fails naming the field, the type and the value', async () => {
    const id = await seedInvoice('INV-1004', '25.00', 'sent', { 'zap-payments': 'QB-77' });
    // A Zapier/n8n-style body whose amount is already in dollars.
    const hook = await actionWebhook(db.pool, TENANT, 'zap-payments', 'markInvoicePaidByExternalId', {
      external_id: 'invoice.id', amount: 'payment.amount', reference: 'payment.id',
    });
    const body = (amount: unknown) => ({ invoice: { id: 'QB-77' }, payment: { id: 'pay_1', amount, currency: 'USD' } });

    const notNumber = await deliver(db.pool, server.url, TENANT, hook, body('abc'));
    expect(notNumber.dispatch_status).toBe('failed');
    expect(notNumber.error_message).toContain('"amount"');
    expect(notNumber.error_message).toContain('expected number');
    expect(notNumber.error_message).toContain('"abc"');

    const zero = await deliver(db.pool, server.url, TENANT, hook, body(0));
    expect(zero.dispatch_status).toBe('failed');
    expect(zero.error_message).toContain('"amount"');
    expect(zero.error_message).toContain('greater than 0');
    expect(zero.error_message).toContain('got 0');

    expect(await paymentsOf(id)).toEqual([]);
    expect(await invoiceRow(id)).toMatchObject({ status: 'sent', amount_paid: '0.00' });
  });

  it('an unknown invoice fails naming the external id and the entity type', async () => {
    const delivery = await deliver(db.pool, server.url, TENANT, stripeHook, stripeEvent(stripeSucceeded, { id: 'in_nobody_knows' }));
    expect(delivery.dispatch_status).toBe('failed');
    expect(delivery.error_message).toContain('"in_nobody_knows"');
    expect(delivery.error_message).toContain('invoice');
    expect(delivery.error_message).toContain('webhook:stripe-billing');
  });
});

describe('updateInvoiceStatusByExternalId', () => {
  let hook: Awaited<ReturnType<typeof actionWebhook>>;
  beforeAll(async () => {
    // A second Stripe webhook (another event) sharing the payments webhook's namespace.
    hook = await actionWebhook(db.pool, TENANT, 'stripe-invoice-status', 'updateInvoiceStatusByExternalId', {
      external_id: 'data.object.id', status: 'data.object.status', paid_at: 'data.object.status_transitions.paid_at',
    }, { mapping_namespace: 'stripe-billing' });
  });

  it('paid sets paid_at from the mapping; leaving paid clears it; no payment is recorded', async () => {
    const id = await seedInvoice('INV-2001', '10.00', 'sent', { 'stripe-billing': 'in_status_1' });
    const paid = await deliver(db.pool, server.url, TENANT, hook, stripeEvent(stripePaid, { id: 'in_status_1' }));
    expect(paid.dispatch_status, paid.error_message).toBe('dispatched');
    expect(paid.handler_outcome).toMatchObject({ invoice_id: id, previous_status: 'sent', status: 'paid', changed: true });
    expect(await invoiceRow(id)).toEqual({ status: 'paid', amount_paid: '0.00', total: '10.00', paid_at: new Date(1234567890 * 1000) });
    expect(await paymentsOf(id)).toEqual([]);

    const voided = stripeEvent({ ...stripePaid, type: 'invoice.voided' }, {
      id: 'in_status_1', status: 'void', status_transitions: { ...stripePaid.data.object.status_transitions, paid_at: null, voided_at: 1234569999 },
    }, 'evt_voided_1');
    const delivery = await deliver(db.pool, server.url, TENANT, hook, voided);
    expect(delivery.dispatch_status, delivery.error_message).toBe('dispatched');
    expect(delivery.handler_outcome).toMatchObject({ previous_status: 'paid', status: 'void', paid_at: null });
    expect(await invoiceRow(id)).toEqual({ status: 'void', amount_paid: '0.00', total: '10.00', paid_at: null });
  });

  it('paid without a mapped paid_at uses now', async () => {
    const id = await seedInvoice('INV-2002', '10.00', 'overdue', { 'stripe-billing': 'in_status_2' });
    const before = Date.now();
    const body = stripeEvent(stripePaid, { id: 'in_status_2', status_transitions: { ...stripePaid.data.object.status_transitions, paid_at: null } });
    const delivery = await deliver(db.pool, server.url, TENANT, hook, body);
    expect(delivery.dispatch_status, delivery.error_message).toBe('dispatched');
    const row = await invoiceRow(id);
    expect(row.status).toBe('paid');
    expect(row.paid_at.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('a status outside the invoice statuses fails naming the field and the values', async () => {
    const id = await seedInvoice('INV-2003', '10.00', 'sent', { 'stripe-billing': 'in_status_3' });
    // Stripe's own "open" is not one of the PSA's statuses.
    const delivery = await deliver(db.pool, server.url, TENANT, hook, stripeEvent(stripePaid, { id: 'in_status_3', status: 'open' }));
    expect(delivery.dispatch_status).toBe('failed');
    expect(delivery.error_message).toContain('"status"');
    expect(delivery.error_message).toContain('"partially_paid"');
    expect(delivery.error_message).toContain('"open"');
    expect(await invoiceRow(id)).toMatchObject({ status: 'sent', paid_at: null });
  });

  it('an unknown invoice fails naming the external id and the entity type', async () => {
    const delivery = await deliver(db.pool, server.url, TENANT, hook, stripeEvent(stripePaid, { id: 'in_status_unknown' }));
    expect(delivery.dispatch_status).toBe('failed');
    expect(delivery.error_message).toContain('"in_status_unknown"');
    expect(delivery.error_message).toContain('invoice');
    expect(delivery.error_message).toContain('webhook:stripe-billing');
  });
});
