// updateInvoiceStatusByExternalId: sets the status of the invoice an external id maps to (an
// accounting system voided it, sent it, marked it paid). paid_at follows the status: set when
// the invoice becomes paid, cleared when it stops being paid. Payments are not touched; use
// markInvoicePaidByExternalId to record money received.
import { ActionError, registerAction } from '../registry.ts';
import { requireByExternalId } from '../resolve.ts';

export const INVOICE_STATUSES = ['draft', 'sent', 'partially_paid', 'paid', 'overdue', 'cancelled', 'void'] as const;

interface Values extends Record<string, unknown> {
  external_id: string;
  status: (typeof INVOICE_STATUSES)[number];
  paid_at?: Date;
}

export const updateInvoiceStatusByExternalId = registerAction<Values>({
  name: 'updateInvoiceStatusByExternalId',
  entityType: 'invoice',
  displayName: 'Update invoice status',
  description:
    'Sets the status of the invoice an external id maps to. Becoming paid sets paid_at (the mapped paid_at, else now); leaving paid clears it. Records no payment.',
  targetFields: [
    { name: 'external_id', type: 'string', required: true, maxLength: 500, description: 'The sender\'s id for the invoice, resolved through this webhook\'s mappings.' },
    { name: 'status', type: 'enum', enumValues: INVOICE_STATUSES, required: true, description: 'The new invoice status.' },
    { name: 'paid_at', type: 'datetime', required: false, description: 'When the invoice was paid, used when status is "paid"; now when absent.' },
  ],
  async handle(ctx, v) {
    const invoiceId = await requireByExternalId(ctx, 'invoice', 'external_id', v.external_id);
    const locked = await ctx.db.query<{ status: string; paid_at: Date | null }>(
      'select status, paid_at from psa.invoices where tenant = $1 and invoice_id = $2 for update',
      [ctx.tenant, invoiceId],
    );
    const before = locked.rows[0];
    if (!before) throw new ActionError(`field "external_id": invoice ${JSON.stringify(v.external_id)} is mapped but no longer exists`);

    // Already paid and no paid_at mapped: keep the date it was paid.
    const paidAt = v.status !== 'paid' ? null : (v.paid_at ?? before.paid_at ?? new Date());
    const { rows } = await ctx.db.query<{ paid_at: Date | null }>(
      `update psa.invoices set status = $3, paid_at = $4, updated_at = now()
        where tenant = $1 and invoice_id = $2
        returning paid_at`,
      [ctx.tenant, invoiceId, v.status, paidAt],
    );
    return {
      invoice_id: invoiceId,
      previous_status: before.status,
      status: v.status,
      paid_at: rows[0]?.paid_at ?? null,
      changed: before.status !== v.status || (before.paid_at?.getTime() ?? null) !== (rows[0]?.paid_at?.getTime() ?? null),
    };
  },
});
