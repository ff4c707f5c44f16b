// Ticket actions. One import per action module.
import './createTicket.ts';
