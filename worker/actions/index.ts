// Every action module, imported once so it registers itself. One line per module.
import './tickets/createTicket.ts';

export { getAction, listActions, listActionsByEntityType, validateValues, ActionError } from './registry.ts';
export type { ActionContext, ActionDefinition, ActionInfo } from './registry.ts';
