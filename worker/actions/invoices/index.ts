// Invoice actions. One import per action module.
import './markInvoicePaidByExternalId.ts';
import './updateInvoiceStatusByExternalId.ts';
