// Dispatching one delivery, in ONE transaction (as intake_app, tenant set) that locks the
// delivery row, re-checks it is still pending, applies the handler and marks it dispatched. A job
// that runs twice (a retry, a worker that died after commit) finds it dispatched and does nothing.
//   direct_action: the webhook's JSONata field mapping is evaluated and validated against the
//     action's target fields once the row is locked, then the action runs.
//   workflow: inside it, the workflow must exist and be active; a workflow run is inserted with
//     the envelope as its input and its run_workflow job enqueued. The delivery's job ends there:
//     a run that fails later never fails the delivery.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { errorMessage, log } from '../core/log.ts';
import { ActionError, getAction, validateValues } from './actions/index.ts';
import { isPermanent, PermanentFailure, UUID } from './failures.ts';
import { compiledMapping, evaluateMapping } from './mapping.ts';

export interface DispatchOptions {
  jsonataTimeoutMs: number;
  /** test-only fault injection: called right after the dispatch transaction commits */
  afterCommit?: () => void;
}

export interface Attempt {
  number: number;
  max: number;
}

interface DeliveryRow {
  dispatch_status: string;
  request_body: unknown;
  inbound_webhook_id: string;
  slug: string;
  mapping_namespace: string | null;
  handler_type: string;
  handler_config: { action?: string; field_mapping?: Record<string, string>; workflow_id?: string };
  config_version: number;
}

/** The handler's part of the dispatch transaction: applies it and returns the outcome to record. */
type HandlerWork = (client: pg.PoolClient) => Promise<Record<string, unknown>>;

export async function dispatchDelivery(
  pool: pg.Pool,
  tenant: string,
  deliveryId: string,
  attempt: Attempt,
  options: DispatchOptions,
): Promise<void> {
  if (!UUID.test(tenant) || !UUID.test(deliveryId)) throw new Error(`dispatch: tenant and delivery_id must be uuids`);
  const started = performance.now();
  try {
    const prepare = async (delivery: DeliveryRow): Promise<HandlerWork> => {
      if (delivery.handler_type === 'direct_action') return directAction(delivery, tenant, deliveryId, options);
      if (delivery.handler_type === 'workflow') return startWorkflow(delivery, tenant, deliveryId);
      throw new PermanentFailure(`handler type "${delivery.handler_type}" is not available in this version of Intake`);
    };
    const committed = await inDispatchTransaction(pool, tenant, deliveryId, attempt, started, prepare);
    if (committed) options.afterCommit?.();
  } catch (error) {
    const message = errorMessage(error);
    if (isPermanent(error) || attempt.number >= attempt.max) {
      const final = isPermanent(error) ? message : `gave up after ${attempt.number} attempts: ${message}`;
      await markFailed(pool, tenant, deliveryId, final, attempt.number - 1, Math.round(performance.now() - started));
      log.info('delivery failed', { tenant, delivery_id: deliveryId, error: final });
      return;
    }
    await pool.query(
      `update intake.inbound_webhook_deliveries set retry_count = $3, error_message = $4
        where tenant = $1 and delivery_id = $2 and dispatch_status = 'pending'`,
      [tenant, deliveryId, attempt.number, `attempt ${attempt.number} of ${attempt.max} failed, will retry: ${message}`],
    );
    throw error; // graphile-worker retries with exponential backoff
  }
}

/** Maps and validates the body (inside the transaction, before the action); then the action runs. */
async function directAction(delivery: DeliveryRow, tenant: string, deliveryId: string, options: DispatchOptions): Promise<HandlerWork> {
  const actionName = delivery.handler_config.action ?? '';
  const action = getAction(actionName);
  if (!action) throw new PermanentFailure(`action "${actionName}" is not registered`);

  let values: Record<string, unknown>;
  try {
    const mapping = compiledMapping(
      delivery.inbound_webhook_id,
      delivery.config_version,
      delivery.handler_config.field_mapping ?? {},
      options.jsonataTimeoutMs,
    );
    values = validateValues(action, await evaluateMapping(mapping, delivery.request_body));
  } catch (error) {
    if (error instanceof ActionError) throw error;
    throw new PermanentFailure(errorMessage(error));
  }
  return async (client) => {
    const outcome = await action.definition.handle(
      {
        db: client,
        tenant,
        inboundWebhookId: delivery.inbound_webhook_id,
        deliveryId,
        integrationType: `webhook:${delivery.mapping_namespace ?? delivery.slug}`,
      },
      values,
    );
    return { action: actionName, ...outcome };
  };
}

/**
 * Inside the transaction: the workflow must exist and be active (its row is key-share locked, so
 * it cannot be deleted before the run's foreign key is checked); the run is inserted with the
 * envelope as its input, and its run_workflow job enqueued by the database.
 */
function startWorkflow(delivery: DeliveryRow, tenant: string, deliveryId: string): HandlerWork {
  const workflowId = delivery.handler_config.workflow_id;
  return async (client) => {
    if (typeof workflowId !== 'string' || !UUID.test(workflowId)) {
      throw new PermanentFailure(`handler_config.workflow_id is not a workflow id: ${JSON.stringify(workflowId ?? null)}`);
    }
    const { rows } = await client.query<{ name: string; is_active: boolean }>(
      `select name, is_active from intake.workflows where tenant = $1 and workflow_id = $2 for key share`,
      [tenant, workflowId],
    );
    const workflow = rows[0];
    if (!workflow) throw new PermanentFailure(`workflow ${workflowId} was deleted`);
    if (!workflow.is_active) throw new PermanentFailure(`workflow ${JSON.stringify(workflow.name)} is inactive`);
    // Every value inlined is a validated uuid.
    const runId = randomUUID();
    await client.query(
      `insert into intake.workflow_runs (tenant, run_id, workflow_id, workflow_version, definition, delivery_id, input)
       select d.tenant, '${runId}', wf.workflow_id, wf.version, wf.definition, d.delivery_id,
              jsonb_build_object(
                'source', w.slug,
                'body', d.request_body,
                'headers', d.request_headers,
                'verified', d.auth_status = 'verified',
                'delivery_id', d.delivery_id,
                'idempotency_key', d.idempotency_key,
                'received_at', to_char(d.received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
         from intake.inbound_webhook_deliveries d
         join intake.inbound_webhooks w on w.tenant = d.tenant and w.inbound_webhook_id = d.inbound_webhook_id
         join intake.workflows wf on wf.tenant = d.tenant and wf.workflow_id = '${workflowId}'
        where d.tenant = '${tenant}' and d.delivery_id = '${deliveryId}';
       select intake_private.enqueue_workflow_run('${tenant}', '${runId}')`,
    );
    return { workflow_id: workflowId, workflow_run_id: runId };
  };
}

/**
 * Opens the transaction, locks the delivery and re-checks it is pending, runs the handler's work
 * and marks the delivery dispatched with its outcome. False when the delivery was no longer
 * pending (nothing done).
 */
async function inDispatchTransaction(
  pool: pg.Pool,
  tenant: string,
  deliveryId: string,
  attempt: Attempt,
  started: number,
  prepare: (delivery: DeliveryRow) => Promise<HandlerWork>,
): Promise<boolean> {
  const client = await pool.connect();
  try {
    // Round trips are most of a dispatch's cost, so the opening (begin, role and tenant, the
    // delivery with its webhook, row lock) and the closing (mark dispatched, commit) go as one
    // simple-protocol query each. Every value inlined is a validated uuid or escaped by the driver.
    const opened = (await client.query(
      `begin;
       select set_config('role', 'intake_app', true), set_config('intake.tenant', '${tenant}', true);
       select d.dispatch_status, d.request_body, w.inbound_webhook_id, w.slug, w.mapping_namespace,
              w.handler_type, w.handler_config, w.config_version
         from intake.inbound_webhook_deliveries d
         join intake.inbound_webhooks w on w.tenant = d.tenant and w.inbound_webhook_id = d.inbound_webhook_id
        where d.tenant = '${tenant}' and d.delivery_id = '${deliveryId}'
          for update of d`,
    )) as unknown as pg.QueryResult<DeliveryRow>[];
    const delivery = opened[2]?.rows[0];
    if (!delivery) log.warn('dispatch: delivery no longer exists', { tenant, delivery_id: deliveryId });
    if (delivery?.dispatch_status !== 'pending') {
      await client.query('rollback');
      return false;
    }
    // Mapping and validation run here, under the row lock (time-limited JSONata); a permanent
    // failure rolls back below before the caller records it.
    const work = await prepare(delivery);
    const outcome = await work(client);
    const outcomeJson = client.escapeLiteral(JSON.stringify(outcome));
    await client.query(
      `update intake.inbound_webhook_deliveries
          set dispatch_status = 'dispatched', handler_outcome = ${outcomeJson}::jsonb, error_message = null,
              dispatched_at = now(), duration_ms = ${Math.round(performance.now() - started)}, retry_count = ${attempt.number - 1}
        where tenant = '${tenant}' and delivery_id = '${deliveryId}';
       commit`,
    );
    return true;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function markFailed(pool: pg.Pool, tenant: string, deliveryId: string, message: string, retries: number, durationMs: number) {
  await pool.query(
    `update intake.inbound_webhook_deliveries
        set dispatch_status = 'failed', error_message = $3, handler_outcome = jsonb_build_object('error', $3::text),
            retry_count = $4, duration_ms = $5, dispatched_at = now()
      where tenant = $1 and delivery_id = $2 and dispatch_status = 'pending'`,
    [tenant, deliveryId, message, retries, durationMs],
  );
}
