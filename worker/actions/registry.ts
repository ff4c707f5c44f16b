// The action registry: every direct action registers itself here with its typed target fields;
// the dispatcher, the CLI (`intake actions list`) and the management APIs read it. Adding an
// action is one module calling `registerAction` and one import line in ./index.ts.
import type pg from 'pg';
import { z } from 'zod';
import { schemaFor, type TargetField, type TargetFieldInfo } from './fields.ts';

/** What an action may use while it runs: one transaction, as intake_app, with the tenant set. */
export interface ActionContext {
  /** client inside the dispatch transaction; row-level security applies */
  readonly db: pg.ClientBase;
  readonly tenant: string;
  readonly inboundWebhookId: string;
  readonly deliveryId: string;
  /** integration_type for tenant_external_entity_mappings: `webhook:<namespace>` */
  readonly integrationType: string;
  /**
   * Boards, statuses and priorities already resolved in this transaction (by kind and value),
   * shared by the deliveries of one dispatch drain: they mostly name the same few.
   */
  readonly references?: Map<string, string>;
}

export interface ActionDefinition<V extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  entityType: string;
  displayName: string;
  description: string;
  targetFields: readonly TargetField[];
  /** Applies the change; returns the outcome recorded on the delivery. Throw ActionError for a permanent failure. */
  handle(ctx: ActionContext, values: V): Promise<Record<string, unknown>>;
}

export interface ActionInfo {
  name: string;
  entityType: string;
  displayName: string;
  description: string;
  targetFields: TargetFieldInfo[];
}

/**
 * A failure that retrying cannot fix (validation, lookup miss): the delivery is failed with
 * this message and the job is not retried.
 */
export class ActionError extends Error {
  override readonly name = 'ActionError';
}

export interface RegisteredAction {
  definition: ActionDefinition;
  schema: z.ZodType<Record<string, unknown>>;
}

const actions = new Map<string, RegisteredAction>();

export function registerAction<V extends Record<string, unknown>>(definition: ActionDefinition<V>): ActionDefinition<V> {
  if (actions.has(definition.name)) throw new Error(`action ${definition.name} is registered twice`);
  const names = new Set<string>();
  for (const field of definition.targetFields) {
    if (names.has(field.name)) throw new Error(`action ${definition.name}: field ${field.name} declared twice`);
    names.add(field.name);
  }
  actions.set(definition.name, { definition: definition as unknown as ActionDefinition, schema: schemaFor(definition.targetFields) });
  return definition;
}

export function getAction(name: string): RegisteredAction | undefined {
  return actions.get(name);
}

/** One field's problem, as validateValues words it (`field "x": expected …`). */
export interface FieldIssue {
  field: string;
  message: string;
}

/** Checks mapped values against an action's target fields: the coerced values, or every field's problem. */
export function checkValues(action: RegisteredAction, values: unknown): { values: Record<string, unknown> } | { issues: FieldIssue[] } {
  const result = action.schema.safeParse(values);
  if (result.success) return { values: result.data };
  return { issues: result.error.issues.map((i) => ({ field: String(i.path[0] ?? ''), message: i.message })) };
}

/** Validates mapped values against an action's target fields; throws ActionError naming each bad field. */
export function validateValues(action: RegisteredAction, values: unknown): Record<string, unknown> {
  const checked = checkValues(action, values);
  if ('issues' in checked) throw new ActionError(checked.issues.map((i) => i.message).join('; '));
  return checked.values;
}

/** The registry as data, grouped by entity type then name. */
export function listActions(): ActionInfo[] {
  return [...actions.values()]
    .map(({ definition: d }) => ({
      name: d.name,
      entityType: d.entityType,
      displayName: d.displayName,
      description: d.description,
      targetFields: d.targetFields.map((f) => ({
        name: f.name,
        type: f.type,
        required: f.required,
        description: f.description,
        ...(f.enumValues ? { enumValues: f.enumValues } : {}),
        ...(f.refEntity ? { refEntity: f.refEntity } : {}),
      })),
    }))
    .sort((a, b) => a.entityType.localeCompare(b.entityType) || a.name.localeCompare(b.name));
}

export function listActionsByEntityType(): Record<string, ActionInfo[]> {
  const grouped: Record<string, ActionInfo[]> = {};
  for (const action of listActions()) (grouped[action.entityType] ??= []).push(action);
  return grouped;
}
