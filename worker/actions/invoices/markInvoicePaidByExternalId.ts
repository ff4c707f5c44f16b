// markInvoicePaidByExternalId: records a payment against the invoice an external id maps to.
// Every payment is a psa.invoice_payments row; the invoice's amount_paid grows by it and its
// status becomes 'paid' (with paid_at) only once the balance reaches zero, 'partially_paid'
// before. A payment whose reference the invoice already has is the same payment sent again
// (a retry, or Stripe's invoice.paid and invoice.payment_succeeded for one charge): nothing changes.
import { ActionError, registerAction } from '../registry.ts';
import { requireByExternalId } from '../resolve.ts';

interface Values extends Record<string, unknown> {
  external_id: string;
  amount: number;
  paid_at?: Date;
  reference?: string;
  method?: string;
}

interface InvoiceRow {
  invoice_number: string;
  status: string;
}

interface PaidRow {
  amount_paid: string;
  balance: string;
  status: string;
  paid_at: Date | null;
}

/** Statuses that take no payment: the invoice is not owed. */
const REFUSING = new Set(['cancelled', 'void']);

export const markInvoicePaidByExternalId = registerAction<Values>({
  name: 'markInvoicePaidByExternalId',
  entityType: 'invoice',
  displayName: 'Record invoice payment',
  description:
    'Records a payment on the invoice an external id maps to. Partial payments add up; the invoice becomes paid when the balance reaches zero. A repeated reference is the same payment and changes nothing.',
  targetFields: [
    { name: 'external_id', type: 'string', required: true, maxLength: 500, description: 'The sender\'s id for the invoice (e.g. Stripe data.object.id), resolved through this webhook\'s mappings.' },
    {
      name: 'amount',
      type: 'number',
      required: true,
      description:
        'Amount received, greater than 0, in the invoice currency\'s major unit (40.00, not 4000). Senders that count in cents need dividing in the mapping: Stripe `data.object.amount_paid / 100`, Square `…total_completed_amount_money.amount / 100`.',
    },
    { name: 'paid_at', type: 'datetime', required: false, description: 'When the payment was made; now when absent.' },
    {
      name: 'reference',
      type: 'string',
      required: false,
      maxLength: 500,
      description: 'The payment\'s id at its source (charge or transaction id). A reference the invoice already has is not recorded again.',
    },
    { name: 'method', type: 'string', required: false, maxLength: 100, description: 'How it was paid (e.g. "card", "ach", "stripe").' },
  ],
  async handle(ctx, v) {
    // numeric(14,2): cents are the smallest unit; refuse what would be rounded away silently.
    const cents = Math.round(v.amount * 100);
    if (!(v.amount > 0) || cents <= 0 || Math.abs(v.amount * 100 - cents) > 1e-6) {
      throw new ActionError(`field "amount": expected a number greater than 0 with at most 2 decimals, got ${JSON.stringify(v.amount)} (number)`);
    }
    const amount = (cents / 100).toFixed(2);
    const invoiceId = await requireByExternalId(ctx, 'invoice', 'external_id', v.external_id);

    // Locked first, so concurrent payments on one invoice add up instead of overwriting.
    const locked = await ctx.db.query<InvoiceRow>(
      'select invoice_number, status from psa.invoices where tenant = $1 and invoice_id = $2 for update',
      [ctx.tenant, invoiceId],
    );
    const invoice = locked.rows[0];
    if (!invoice) throw new ActionError(`field "external_id": invoice ${JSON.stringify(v.external_id)} is mapped but no longer exists`);
    if (REFUSING.has(invoice.status)) {
      throw new ActionError(`invoice ${invoice.invoice_number} (external id ${JSON.stringify(v.external_id)}) is ${invoice.status} and does not accept payments`);
    }

    const paidAt = v.paid_at ?? new Date();
    const inserted = await ctx.db.query<{ payment_id: string }>(
      `insert into psa.invoice_payments (tenant, invoice_id, amount, paid_at, reference, method)
       values ($1, $2, $3, $4, $5, $6)
       on conflict (tenant, invoice_id, reference) where reference is not null do nothing
       returning payment_id`,
      [ctx.tenant, invoiceId, amount, paidAt, v.reference ?? null, v.method ?? null],
    );

    if (!inserted.rows[0]) {
      const { rows } = await ctx.db.query<PaidRow & { payment_id: string }>(
        `select p.payment_id, i.amount_paid, i.total - i.amount_paid as balance, i.status, i.paid_at
           from psa.invoice_payments p join psa.invoices i on i.tenant = p.tenant and i.invoice_id = p.invoice_id
          where p.tenant = $1 and p.invoice_id = $2 and p.reference = $3`,
        [ctx.tenant, invoiceId, v.reference],
      );
      const row = rows[0]!;
      return { invoice_id: invoiceId, payment_id: row.payment_id, amount_paid: Number(row.amount_paid), balance: Number(row.balance), status: row.status, duplicate_payment: true };
    }

    // In SET, the columns name the row's old values. An invoice already paid (balance settled, or
    // marked paid by hand) stays paid, with its paid_at; a further payment is an overpayment.
    const { rows } = await ctx.db.query<PaidRow>(
      `update psa.invoices
          set amount_paid = amount_paid + $3::numeric,
              status = case when status = 'paid' or amount_paid + $3::numeric >= total then 'paid' else 'partially_paid' end,
              paid_at = case when status = 'paid' or amount_paid + $3::numeric >= total then coalesce(paid_at, $4) end,
              updated_at = now()
        where tenant = $1 and invoice_id = $2
        returning amount_paid, total - amount_paid as balance, status, paid_at`,
      [ctx.tenant, invoiceId, amount, paidAt],
    );
    const paid = rows[0]!;
    return {
      invoice_id: invoiceId,
      payment_id: inserted.rows[0].payment_id,
      amount_paid: Number(paid.amount_paid),
      balance: Number(paid.balance),
      status: paid.status,
      duplicate_payment: false,
    };
  },
});
