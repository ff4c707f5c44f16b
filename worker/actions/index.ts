// Every action module, imported once so it registers itself: one line per entity folder, whose
// own index.ts imports that entity's actions.
import './tickets/index.ts';
import './clients/index.ts';
import './contacts/index.ts';
import './assets/index.ts';
import './invoices/index.ts';
import './time_entries/index.ts';
import './project_tasks/index.ts';
import './tags/index.ts';

export { checkValues, getAction, listActions, listActionsByEntityType, validateValues, ActionError } from './registry.ts';
export type { ActionContext, ActionDefinition, ActionInfo, FieldIssue, RegisteredAction } from './registry.ts';
