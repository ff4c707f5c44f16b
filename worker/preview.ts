// The dry run of a draft handler (issue 12): what saving it would do to one input, told before
// it is saved. It is the dispatch's own path, not a second evaluator: the draft's field mapping
// is compiled and evaluated by ./mapping.ts on core/jsonata.ts's threads (one evaluation, as a
// delivery's), the values are checked by the action registry's validator (checkValues, which
// validateValues wraps), and the action's own handle() runs with ./dispatch.ts's actionContext
// inside a savepoint that is always rolled back, so its lookups are real and it leaves nothing:
// no entity, no mapping row, no ticket number (psa.next_ticket_number is a counter row, rolled
// back with the rest; no sequence is involved), no job. A workflow handler is checked as the
// dispatch checks it (activeWorkflow) and its envelope built by the same SQL function
// (intake_private.workflow_envelope); no run is inserted (that would add a job).
//
// The caller's client is inside a transaction with the tenant set, as intake_user (the APIs:
// row-level security decides which webhook and delivery it may read, and intake_user needs
// inbound_webhook:read) or intake_app (the preview_mapping task). The action runs as intake_app,
// the role a dispatch runs it as.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { UserError } from '../core/errors.ts';
import { parseJson } from '../core/json.ts';
import { errorMessage } from '../core/log.ts';
import { handlerConfigSchema, mergeTypedSetting } from '../core/webhookConfig.ts';
import { checkValues, getAction, type RegisteredAction } from './actions/index.ts';
import { actionContext, activeWorkflow } from './dispatch.ts';
import { isPermanent } from './failures.ts';
import { compileMapping, evaluateMappingFields } from './mapping.ts';

/** How long the rolled-back action may wait for a row a running dispatch holds (a tenant's ticket counter). */
export const PREVIEW_LOCK_WAIT_MS = 2000;

export type PreviewSource = { kind: 'sample' } | { kind: 'delivery'; deliveryId: string } | { kind: 'body'; body: unknown };

export type ValueType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object' | 'null' | 'missing';

export interface PreviewField {
  /** the action's field name (or a mapped name the action does not have) */
  name: string;
  expression: string | null;
  /** what the expression gave on the input; null when it failed or gave nothing */
  value: unknown;
  valueType: ValueType;
  /** null: fits the field */
  problem: string | null;
  severity: 'warning' | 'error' | null;
}

export type PreviewOutcome = 'create' | 'update' | 'fail' | 'workflow' | 'skip';

export interface MappingPreview {
  source: 'sample' | 'delivery' | 'body';
  deliveryId: string | null;
  input: unknown;
  fields: PreviewField[];
  outcome: PreviewOutcome;
  summary: string;
  /** true when saving the draft would dispatch this input successfully */
  ok: boolean;
  /** a workflow handler's envelope; null for actions */
  envelope: unknown;
}

export interface PreviewOptions {
  jsonataTimeoutMs: number;
}

interface WebhookOfPreview {
  tenant: string;
  inbound_webhook_id: string;
  slug: string;
  mapping_namespace: string | null;
  handler_type: string;
  handler_config: Record<string, unknown>;
  sample: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The draft as a handler config: the shape of updateInboundWebhook's patch.handler (without a
 * handler_type it merges into the current handler). A field whose expression is empty is
 * unmapped: an editor cleared it.
 */
export function draftHandler(current: { handler_type: string; handler_config: Record<string, unknown> }, draft: unknown) {
  if (!isObject(draft)) throw new UserError('validation', 'handler: must be an object, e.g. {"handler_type": "direct_action", "action": "createTicket", "field_mapping": {…}}', { field: 'handler' });
  const merged = { ...mergeTypedSetting({ ...current.handler_config, handler_type: current.handler_type }, draft, 'handler_type') };
  if (isObject(merged.field_mapping)) {
    merged.field_mapping = Object.fromEntries(Object.entries(merged.field_mapping).filter(([, source]) => !(typeof source === 'string' && source.trim() === '')));
  }
  const parsed = handlerConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const message = parsed.error.issues.map((i) => `${['handler', ...i.path].join('.')}: ${i.message}`).join('; ');
    throw new UserError('validation', message, { field: 'handler' });
  }
  return parsed.data;
}

export async function previewMapping(
  client: pg.ClientBase,
  inboundWebhookId: string,
  draft: unknown,
  source: PreviewSource,
  options: PreviewOptions,
): Promise<MappingPreview> {
  if (!UUID.test(inboundWebhookId)) throw new UserError('validation', `inboundWebhookId: not a uuid: "${inboundWebhookId}"`, { field: 'inboundWebhookId' });
  const { rows } = await client.query<WebhookOfPreview>(
    `select tenant, inbound_webhook_id, slug, mapping_namespace, handler_type, handler_config, sample_payload::text as sample
       from intake.inbound_webhooks where inbound_webhook_id = $1`,
    [inboundWebhookId],
  );
  const webhook = rows[0];
  if (!webhook) throw new UserError('not_found', `inbound webhook ${inboundWebhookId} not found`);
  const handler = draftHandler(webhook, draft);

  let input: unknown;
  let deliveryId: string | null = null;
  if (source.kind === 'delivery') {
    if (!UUID.test(source.deliveryId)) throw new UserError('validation', `deliveryId: not a uuid: "${source.deliveryId}"`, { field: 'deliveryId' });
    const found = await client.query<{ body: string | null; cut: string | null }>(
      `select (b).request_body::text as body, intake.delivery_body_note(b) as cut
         from (select intake.delivery_with_body(d) as b from intake.inbound_webhook_deliveries d
                where d.inbound_webhook_id = $1 and d.delivery_id = $2) x`,
      [inboundWebhookId, source.deliveryId],
    );
    if (!found.rows[0]) throw new UserError('not_found', `delivery ${source.deliveryId} of inbound webhook ${inboundWebhookId} not found`);
    if (found.rows[0].cut !== null) {
      throw new UserError('validation', `delivery ${source.deliveryId} cannot be tried: its ${found.rows[0].cut}`, { field: 'deliveryId' });
    }
    // Read as text and parsed as the dispatch parses it, so 64-bit ids keep every digit.
    input = found.rows[0].body === null ? null : parseJson(found.rows[0].body);
    deliveryId = source.deliveryId;
  } else if (source.kind === 'sample') {
    if (webhook.sample === null) {
      throw new UserError('validation', 'this webhook has no captured sample: capture a sample request, or test with one of its deliveries or a pasted body', { field: 'deliveryId' });
    }
    input = parseJson(webhook.sample);
  } else {
    input = source.body;
  }

  const base = { source: source.kind, deliveryId, input } as const;
  if (handler.handler_type === 'workflow') {
    return { ...base, ...(await previewWorkflow(client, webhook, handler.workflow_id, source, input)) };
  }
  const action = getAction(handler.action);
  if (!action) throw new UserError('validation', `handler.action: unknown action "${handler.action}" (see: intake actions list)`, { field: 'handler.action' });
  return { ...base, envelope: null, ...(await previewAction(client, webhook, action, handler.field_mapping, input, deliveryId, options)) };
}

function valueTypeOf(value: unknown): ValueType {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'string' || typeof value === 'boolean') return typeof value as 'string' | 'boolean';
  return 'object';
}

/** `mapping for field "title": JSONata …` / `field "title": expected …` → the part after the field's name. */
function withoutFieldName(message: string): string {
  return message.replace(/^(mapping for field|field) "[^"]*":? /, '');
}

async function previewAction(
  client: pg.ClientBase,
  webhook: WebhookOfPreview,
  action: RegisteredAction,
  fieldMapping: Record<string, string>,
  input: unknown,
  deliveryId: string | null,
  options: PreviewOptions,
): Promise<Pick<MappingPreview, 'fields' | 'outcome' | 'summary' | 'ok'>> {
  // Saving refuses an expression that does not parse; the draft may still hold one: that field
  // fails alone and the others are evaluated.
  const failures = new Map<string, string>();
  const compilable: Record<string, string> = {};
  for (const [field, expression] of Object.entries(fieldMapping)) {
    try {
      compileMapping(webhook.inbound_webhook_id, 0, { [field]: expression }, options.jsonataTimeoutMs);
      compilable[field] = expression;
    } catch (error) {
      failures.set(field, errorMessage(error));
    }
  }
  const results = await evaluateMappingFields(
    compileMapping(webhook.inbound_webhook_id, 0, compilable, options.jsonataTimeoutMs),
    input,
  );
  const values: Record<string, unknown> = {};
  for (const result of results) {
    if ('error' in result) failures.set(result.field, result.error.message);
    else if (result.value !== undefined) values[result.field] = result.value;
  }
  const checked = checkValues(action, values);
  const issues = new Map<string, string>();
  if ('issues' in checked) for (const issue of checked.issues) if (!issues.has(issue.field)) issues.set(issue.field, issue.message);

  const targetFields = action.definition.targetFields;
  const names = [...targetFields.map((f) => f.name), ...Object.keys(fieldMapping).filter((name) => !targetFields.some((f) => f.name === name))];
  const fields = names.map((name): PreviewField => {
    const expression = fieldMapping[name] ?? null;
    const failure = failures.get(name);
    const value = failure === undefined ? values[name] : undefined;
    const problem = failure ?? issues.get(name);
    const base = { name, expression, value: value ?? null, valueType: valueTypeOf(value) };
    if (problem !== undefined) return { ...base, problem: withoutFieldName(problem), severity: 'error' };
    if (expression !== null && value === undefined) {
      return { ...base, problem: 'no value on this input: the field is left empty', severity: 'warning' };
    }
    return { ...base, problem: null, severity: null };
  });

  // What the dispatch would record: the first failing expression (in mapping order), else every
  // field's validation problem.
  const firstFailure = Object.keys(fieldMapping).map((field) => failures.get(field)).find((m) => m !== undefined);
  if (firstFailure !== undefined) return { fields, outcome: 'fail', summary: `fails: ${firstFailure}`, ok: false };
  if ('issues' in checked) return { fields, outcome: 'fail', summary: `fails: ${checked.issues.map((i) => i.message).join('; ')}`, ok: false };

  const ran = await inRolledBackSavepoint(client, () =>
    action.definition.handle(actionContext(client, webhook.tenant, webhook, deliveryId ?? randomUUID(), new Map()), checked.values));
  if ('error' in ran) {
    if (!isPermanent(ran.error)) throw ran.error;
    return { fields, outcome: 'fail', summary: `fails: ${errorMessage(ran.error)}`, ok: false };
  }
  return { fields, ...describeOutcome(action, checked.values, ran.value) };
}

/**
 * Runs fn as intake_app inside a savepoint that is always rolled back, waiting at most
 * PREVIEW_LOCK_WAIT_MS for a lock (a dispatch holds its tenant's ticket counter until it commits).
 */
async function inRolledBackSavepoint<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<{ value: T } | { error: unknown }> {
  await client.query(`savepoint mapping_preview;
                      select set_config('role', 'intake_app', true), set_config('lock_timeout', '${PREVIEW_LOCK_WAIT_MS}ms', true)`);
  let result: { value: T } | { error: unknown };
  try {
    result = { value: await fn() };
  } catch (error) {
    result = { error };
  }
  // Rolls back the action's writes, locks, role and lock_timeout alike.
  await client.query('rollback to savepoint mapping_preview; release savepoint mapping_preview');
  if ('error' in result && (result.error as { code?: string }).code === '55P03') {
    throw new UserError('conflict', 'could not run the dry run now: a dispatch of this tenant holds the rows it needs; try again in a moment');
  }
  return result;
}

const quote = (value: unknown) => `'${String(value)}'`;

/** "creates ticket", "updates ticket T-000123 matched by external id 'A-1'", … from an action's outcome. */
export function describeOutcome(
  action: RegisteredAction,
  values: Record<string, unknown>,
  outcome: Record<string, unknown>,
): Pick<MappingPreview, 'outcome' | 'summary' | 'ok'> {
  const name = action.definition.name;
  const entity = action.definition.entityType.replaceAll('_', ' ');
  // what the external id names: the action's entity, or the one it is told (a tag's entity_type)
  const target = typeof values.entity_type === 'string' ? values.entity_type.replaceAll('_', ' ') : entity;
  const ref = typeof outcome.ticket_number === 'string' ? `${target} ${outcome.ticket_number}` : target;
  const externalId = values.external_id;
  const match = externalId === undefined ? '' : ` matched by external id ${quote(externalId)}`;
  const creates = name.startsWith('create');
  const upserts = /^upsert|^ingest/.test(name);

  if (outcome.created === true && (creates || upserts)) {
    return { outcome: 'create', summary: `creates ${entity}${externalId === undefined ? '' : ` with external id ${quote(externalId)}`}`, ok: true };
  }
  if (outcome.created === false && creates) {
    return { outcome: 'skip', summary: `creates no ${entity}: external id ${quote(externalId)} already maps to ${ref}`, ok: true };
  }
  if (outcome.created === false && upserts) {
    return { outcome: 'update', summary: `updates ${ref}${match}`, ok: true };
  }
  if (typeof values.tag === 'string') {
    return outcome.created === false
      ? { outcome: 'skip', summary: `no change: ${ref}${match} already has tag ${quote(values.tag)}`, ok: true }
      : { outcome: 'update', summary: `tags ${ref}${match} with ${quote(values.tag)}`, ok: true };
  }
  if (outcome.duplicate_payment === true) return { outcome: 'skip', summary: `no change: this payment is already recorded on ${ref}${match}`, ok: true };
  const unchanged = outcome.changed === false || (Array.isArray(outcome.changed) && outcome.changed.length === 0);
  if (unchanged) return { outcome: 'skip', summary: `no change: ${ref}${match} already has these values`, ok: true };

  if (typeof values.is_active === 'boolean') {
    return { outcome: 'update', summary: `${values.is_active ? 'activates' : 'deactivates'} ${ref}${match}`, ok: true };
  }
  // "Update ticket by external id" → "updates ticket T-000123 matched by external id 'A-1'"
  const [verb = '', ...rest] = action.definition.displayName.replace(/ by external id$/i, '').split(' ');
  const object = rest.join(' ');
  const phrase = `${verb.toLowerCase()}s ${object === entity ? ref : `${object}: ${ref}`}${match}`;
  const changed = Array.isArray(outcome.changed) ? ` (${outcome.changed.join(', ')})` : '';
  return { outcome: outcome.created === true ? 'create' : 'update', summary: `${phrase}${changed}`, ok: true };
}

async function previewWorkflow(
  client: pg.ClientBase,
  webhook: WebhookOfPreview,
  workflowId: string,
  source: PreviewSource,
  input: unknown,
): Promise<Pick<MappingPreview, 'fields' | 'outcome' | 'summary' | 'ok' | 'envelope'>> {
  // The envelope from the delivery's own row, or from one made up for the sample (a verified
  // request's body) or a pasted body; nothing is inserted.
  const { rows } = source.kind === 'delivery'
    ? await client.query<{ envelope: unknown }>(
        `select intake_private.workflow_envelope($1, intake.delivery_with_body(d)) as envelope from intake.inbound_webhook_deliveries d
          where d.inbound_webhook_id = $2 and d.delivery_id = $3`,
        [webhook.slug, webhook.inbound_webhook_id, source.deliveryId],
      )
    : await client.query<{ envelope: unknown }>(
        `select intake_private.workflow_envelope($1, jsonb_populate_record(null::intake.inbound_webhook_deliveries,
                  jsonb_build_object('request_body', $2::jsonb, 'received_at', now(), 'auth_status', $3::text,
                                     'is_test', false, 'is_replay', false))) as envelope`,
        [webhook.slug, JSON.stringify(input ?? null), source.kind === 'sample' ? 'verified' : 'rejected_no_auth'],
      ).catch((error: { code?: string; message?: string }) => {
        // a body jsonb cannot hold (\u0000): the receiver would have refused it too
        if (error.code?.startsWith('22')) throw new UserError('validation', `body: cannot be stored: ${error.message}`, { field: 'body' });
        throw error;
      });
  const envelope = rows[0]?.envelope ?? null;
  try {
    const workflow = await activeWorkflow(client, webhook.tenant, workflowId, false);
    return { fields: [], outcome: 'workflow', summary: `starts workflow ${quote(workflow.name)}`, ok: true, envelope };
  } catch (error) {
    if (!isPermanent(error)) throw error;
    return { fields: [], outcome: 'fail', summary: `fails: ${errorMessage(error)}`, ok: false, envelope };
  }
}

/** The preview in snake_case: the REST API's answer and what intake.mapping_previews.result holds. */
export function previewToJson(preview: MappingPreview) {
  return {
    source: preview.source,
    delivery_id: preview.deliveryId,
    input: preview.input,
    fields: preview.fields.map((f) => ({
      name: f.name, expression: f.expression, value: f.value, value_type: f.valueType, problem: f.problem, severity: f.severity,
    })),
    outcome: preview.outcome,
    summary: preview.summary,
    ok: preview.ok,
    envelope: preview.envelope,
  };
}
