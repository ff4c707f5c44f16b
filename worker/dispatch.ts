// Dispatching one delivery: map its body with the webhook's JSONata field mapping, validate the
// result against the action's target fields, then run the action and mark the delivery
// dispatched in ONE transaction (as intake_app, tenant set). The delivery row is locked and
// re-checked inside that transaction, so a job that runs twice (a retry, a worker that died
// after commit) finds it dispatched and does nothing.
import type pg from 'pg';
import { ExpressionError } from '../core/jsonata.ts';
import { errorMessage, log } from '../core/log.ts';
import { ActionError, getAction, validateValues } from './actions/index.ts';
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

/** A failure that no retry can fix. */
class PermanentFailure extends Error {}

function isPermanent(error: unknown): boolean {
  if (error instanceof ActionError || error instanceof ExpressionError || error instanceof PermanentFailure) return true;
  const code = (error as { code?: unknown })?.code;
  // Data exceptions and integrity violations will not change on retry, except unique
  // violations, which a concurrent writer can cause and a retry resolves.
  return typeof code === 'string' && (code.startsWith('22') || (code.startsWith('23') && code !== '23505'));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function dispatchDelivery(
  pool: pg.Pool,
  tenant: string,
  deliveryId: string,
  attempt: Attempt,
  options: DispatchOptions,
): Promise<void> {
  if (!UUID.test(tenant) || !UUID.test(deliveryId)) throw new Error(`dispatch: tenant and delivery_id must be uuids`);
  const { rows } = await pool.query<DeliveryRow>(
    `select d.dispatch_status, d.request_body, w.inbound_webhook_id, w.slug, w.mapping_namespace,
            w.handler_type, w.handler_config, w.config_version
       from intake.inbound_webhook_deliveries d
       join intake.inbound_webhooks w on w.tenant = d.tenant and w.inbound_webhook_id = d.inbound_webhook_id
      where d.tenant = $1 and d.delivery_id = $2`,
    [tenant, deliveryId],
  );
  const delivery = rows[0];
  if (!delivery) {
    log.warn('dispatch: delivery no longer exists', { tenant, delivery_id: deliveryId });
    return;
  }
  if (delivery.dispatch_status !== 'pending') return;

  const started = performance.now();
  try {
    if (delivery.handler_type !== 'direct_action') {
      throw new PermanentFailure(`handler type "${delivery.handler_type}" is not available in this version of Intake`);
    }
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

    const client = await pool.connect();
    let committed = false;
    try {
      // Round trips are most of a dispatch's cost, so the opening (begin, role and tenant, row
      // lock) and the closing (mark dispatched, commit) go as one simple-protocol query each.
      // Every value inlined is a validated uuid or escaped by the driver.
      const opened = (await client.query(
        `begin;
         select set_config('role', 'intake_app', true), set_config('intake.tenant', '${tenant}', true);
         select dispatch_status from intake.inbound_webhook_deliveries
          where tenant = '${tenant}' and delivery_id = '${deliveryId}' for update`,
      )) as unknown as pg.QueryResult[];
      if (opened[2]?.rows[0]?.dispatch_status !== 'pending') {
        await client.query('rollback');
        return;
      }
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
      const outcomeJson = client.escapeLiteral(JSON.stringify({ action: actionName, ...outcome }));
      await client.query(
        `update intake.inbound_webhook_deliveries
            set dispatch_status = 'dispatched', handler_outcome = ${outcomeJson}::jsonb, error_message = null,
                dispatched_at = now(), duration_ms = ${Math.round(performance.now() - started)}, retry_count = ${attempt.number - 1}
          where tenant = '${tenant}' and delivery_id = '${deliveryId}';
         commit`,
      );
      committed = true;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
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

async function markFailed(pool: pg.Pool, tenant: string, deliveryId: string, message: string, retries: number, durationMs: number) {
  await pool.query(
    `update intake.inbound_webhook_deliveries
        set dispatch_status = 'failed', error_message = $3, handler_outcome = jsonb_build_object('error', $3::text),
            retry_count = $4, duration_ms = $5, dispatched_at = now()
      where tenant = $1 and delivery_id = $2 and dispatch_status = 'pending'`,
    [tenant, deliveryId, message, retries, durationMs],
  );
}
