// Ticket actions. One import per action module.
import './createTicket.ts';
import './updateTicketByExternalId.ts';
import './addTicketCommentByExternalId.ts';
import './changeTicketStatusByExternalId.ts';
