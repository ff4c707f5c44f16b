// Dispatching. A drain of webhook W, in ONE transaction (as intake_app, tenant set), takes W's
// drain lock and dispatches W's pending deliveries in arrival order, then commits once. A failure
// affects only its own delivery: the drain runs without savepoints until an action fails, then
// again with one per delivery.
//
// Why a drain: one webhook's deliveries must take effect in arrival order. Serial graphile-worker
// queues gave that, but cut graphile-worker's own job rate by more than half. Now dispatch jobs
// run in parallel; the drain lock (a transaction-level advisory lock on the webhook) lets one job
// of a webhook drain at a time, and whichever holds it applies everything pending in order.
// A job never waits out another drain: it waits at most DRAIN_LOCK_WAIT_MS (long enough for a
// receiver batch's commit, which holds the lock shared), and otherwise reschedules itself as the
// webhook's keyed drain job a moment later and frees its worker slot. One slow webhook so holds
// one slot, not all of them.
//
// Two tasks drain:
//   dispatch_webhook {tenant, inbound_webhook_id}: the receiver makes sure one will drain after
//     each batch (intake.receive_deliveries: usually one queued job, keyed by the webhook, serves
//     many batches). It drains the webhook's pending first attempts until none is left; a job
//     that finds them already drained by an earlier one ends after its drain lock and one read.
//   dispatch_delivery {tenant, delivery_id}: a replay, a test delivery, or the retries of a
//     delivery D whose attempt failed transiently. It drains W with D in it and counts D's
//     attempts; once D is dispatched or failed, a second run does nothing.
//
// Which deliveries a drain takes: the pending ones that never failed (retry_count = 0), and D
// itself, by (received_at, delivery_id), at most DRAIN_LIMIT per transaction. A delivery that
// fails transiently inside a drain gets a dispatch_delivery job of its own, run after a backoff,
// and later drains pass it by: later deliveries overtake it, as they overtook a failing job in a
// serial queue.
//
// Each delivery:
//   direct_action: the webhook's JSONata field mapping is evaluated and validated against the
//     action's target fields (for the whole batch first: pure JavaScript), then the action runs.
//   workflow: the workflow must exist and be active; a workflow run is inserted with the envelope
//     as its input and its run_workflow job enqueued. The delivery's part ends there: a run that
//     fails later never fails the delivery.
// A permanent failure (rolled back to the delivery's savepoint) marks that delivery failed; a
// transient one records the attempt (on D: its job retries with backoff; on another delivery: its
// own job will). The rest of the drain goes on, and the dispatched deliveries are marked, with
// their outcomes, in one statement before the commit.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { errorMessage, log } from '../core/log.ts';
import { countDispatch, type DispatchOutcome } from '../core/metrics.ts';
import { parseJson } from '../core/json.ts';
import { ActionError, getAction, validateValues, type ActionContext } from './actions/index.ts';
import { finalFailureMessage, isPermanent, PermanentFailure, UUID } from './failures.ts';
import { compiledMapping, evaluateMapping } from './mapping.ts';

/**
 * At most this many deliveries per drain transaction: bounds its length, and keeps a careful
 * drain's savepoints (one subtransaction id per delivery that wrote) under the 64 a backend can
 * publish: past that, every other session's snapshot checks would have to read pg_subtrans.
 */
export const DRAIN_LIMIT = 50;

/**
 * How long a drain waits for its webhook's drain lock before rescheduling itself. A receiver
 * batch holds the lock shared only while it commits (milliseconds), so this outlasts one; a
 * running drain can hold it for seconds, and a worker slot must not wait that out.
 */
export const DRAIN_LOCK_WAIT_MS = 200;

/** A job whose webhook is being drained by another runs again this much later (its drain will look then). */
export const DRAIN_BUSY_DELAY_MS = 1000;

export interface DispatchOptions {
  jsonataTimeoutMs: number;
  /** default DRAIN_LOCK_WAIT_MS */
  drainLockWaitMs?: number;
  /** test-only fault injection: called right after a dispatch transaction commits */
  afterCommit?: () => void;
}

export interface Attempt {
  number: number;
  max: number;
}

interface WebhookRow {
  /** D's status, read under the drain lock */
  dispatch_status: string;
  inbound_webhook_id: string;
  slug: string;
  mapping_namespace: string | null;
  handler_type: string;
  handler_config: { action?: string; field_mapping?: Record<string, string>; workflow_id?: string };
  config_version: number;
}

interface PendingRow {
  delivery_id: string;
  request_body: unknown;
  received_at: Date;
  /** a replay pinned to the configuration version its original was dispatched with; null = current */
  dispatch_config_version: number | null;
  /** set when retention cut the body before the delivery was dispatched: "body cut on …" (it fails with that) */
  body_cut: string | null;
}

/** The metrics' `action` label: a registered action's name, "workflow", or "unknown" (never free text). */
function actionLabel(webhook: WebhookRow): string {
  if (webhook.handler_type === 'workflow') return 'workflow';
  const name = webhook.handler_config.action ?? '';
  return getAction(name) ? name : 'unknown';
}

/**
 * A delivery's handler work inside the transaction: applies it and returns the outcome to record.
 * `references` is the drain's cache of resolved boards, statuses and priorities.
 */
type HandlerWork = (client: pg.PoolClient, references: Map<string, string>) => Promise<Record<string, unknown>>;

/** What a drain is for: one delivery's job (D, with its attempts), or a webhook's. */
type DrainTarget = { deliveryId: string; attempt: Attempt } | { webhookId: string };

/**
 * A delivery whose attempt failed transiently inside a drain that was not its own gets a
 * dispatch_delivery job, run after this long; graphile-worker's backoff takes over from there.
 */
const OWN_RETRY_DELAY_SECONDS = 3;

type DrainResult =
  | { state: 'not pending' }
  /** another drain of the webhook holds its drain lock: reschedule */
  | { state: 'busy' }
  /** D lies beyond this transaction's DRAIN_LIMIT deliveries, or a webhook's drain took a full
   * DRAIN_LIMIT: drain the next ones */
  | { state: 'not reached' }
  /** an action failed in a drain without savepoints; rolled back: drain again, carefully */
  | { state: 'redo carefully' }
  /** D was handled; `retry` is its transient failure, to throw once the drain committed */
  | { state: 'done'; retry?: unknown };

export async function dispatchDelivery(
  pool: pg.Pool,
  tenant: string,
  deliveryId: string,
  attempt: Attempt,
  options: DispatchOptions,
): Promise<void> {
  if (!UUID.test(tenant) || !UUID.test(deliveryId)) throw new Error(`dispatch: tenant and delivery_id must be uuids`);
  const started = performance.now();
  // In a backlog most jobs find their delivery applied by an earlier drain. Dispatched and failed
  // are final, so one indexed lookup (a prepared statement) settles those without opening a
  // transaction; a pending delivery is re-checked under the drain lock.
  const { rows } = await pool.query<{ dispatch_status: string }>({
    name: 'intake-dispatch-status',
    text: 'select dispatch_status from intake.inbound_webhook_deliveries where tenant = $1 and delivery_id = $2',
    values: [tenant, deliveryId],
  });
  if (!rows[0]) log.warn('dispatch: delivery no longer exists', { tenant, delivery_id: deliveryId });
  if (rows[0]?.dispatch_status !== 'pending') return;

  let result: DrainResult;
  try {
    result = await drainUntilDone(pool, tenant, { deliveryId, attempt }, options);
  } catch (error) {
    // The drain transaction itself failed (its opening, a savepoint's recovery, the commit):
    // everything in it was rolled back. Record the attempt on D alone, as a lone dispatch would.
    const message = errorMessage(error);
    if (isPermanent(error) || attempt.number >= attempt.max) {
      const final = finalFailureMessage(error, message, attempt.number);
      await pool.query(
        `update intake.inbound_webhook_deliveries
            set dispatch_status = 'failed', error_message = $3, handler_outcome = jsonb_build_object('error', $3::text),
                retry_count = $4, duration_ms = $5, dispatched_at = now()
          where tenant = $1 and delivery_id = $2 and dispatch_status = 'pending'`,
        [tenant, deliveryId, final, attempt.number - 1, Math.round(performance.now() - started)],
      );
      log.info('delivery failed', { tenant, delivery_id: deliveryId, error: final });
      countDispatch('unknown', 'failed');
      return;
    }
    countDispatch('unknown', 'retry');
    await pool.query(
      `update intake.inbound_webhook_deliveries set retry_count = $3, error_message = $4
        where tenant = $1 and delivery_id = $2 and dispatch_status = 'pending'`,
      [tenant, deliveryId, attempt.number, retryMessage(attempt, message)],
    );
    throw error; // graphile-worker retries with exponential backoff
  }
  if (result.state === 'busy') {
    // Its job again, a moment later, with the attempts so far carried over (graphile-worker's
    // own count starts again in a new job). The lock wait was not an attempt.
    const before = attempt.number - 1;
    await pool.query(
      `select graphile_worker.add_job('dispatch_delivery', json_build_object('tenant', $1::uuid, 'delivery_id', $2::uuid, 'attempts_before', $3::int),
                                      run_at => now() + make_interval(secs => $4::float8 / 1000), max_attempts => $5::int,
                                      job_key => 'dispatch:' || $2, job_key_mode => 'preserve_run_at')`,
      [tenant, deliveryId, before, DRAIN_BUSY_DELAY_MS, attempt.max - before],
    );
    log.debug('dispatch: its webhook is being drained; the delivery\'s job runs again later', { tenant, delivery_id: deliveryId });
    return;
  }
  if (result.state === 'done' && result.retry !== undefined) throw result.retry;
}

const retryMessage = (attempt: Attempt, message: string) => `attempt ${attempt.number} of ${attempt.max} failed, will retry: ${message}`;

/**
 * A dispatch_webhook job: drains the webhook's pending first attempts until none is left. A
 * failure of a drain transaction itself (its opening, the commit; not an action) is thrown, and
 * graphile-worker retries the job; the deliveries stay pending meanwhile.
 *
 * No look before the drain lock, unlike a delivery's job: a batch that is still committing may
 * count on this job (intake.receive_deliveries holds the lock shared until its commit), and only
 * a read made after taking the lock is sure to see that batch.
 */
export async function drainWebhook(pool: pg.Pool, tenant: string, webhookId: string, options: DispatchOptions): Promise<void> {
  if (!UUID.test(tenant) || !UUID.test(webhookId)) throw new Error(`dispatch: tenant and inbound_webhook_id must be uuids`);
  const result = await drainUntilDone(pool, tenant, { webhookId }, options);
  if (result.state === 'busy') {
    // Another drain holds the lock; it may have read the pending deliveries before a batch that
    // counts on this job committed. So a drain must follow: the webhook's keyed job, a moment
    // later (the earliest run_at wins if there is one; one that a worker has locked, this job
    // itself included, is replaced by a new one). A receiver batch counts on that job as on
    // any queued keyed one.
    await pool.query(
      `select graphile_worker.add_job('dispatch_webhook', json_build_object('tenant', $1::uuid, 'inbound_webhook_id', $2::uuid),
                                      run_at => now() + make_interval(secs => $3::float8 / 1000), max_attempts => 25,
                                      job_key => 'drain:' || $2, job_key_mode => 'preserve_run_at')`,
      [tenant, webhookId, DRAIN_BUSY_DELAY_MS],
    );
    log.debug('dispatch: the webhook is being drained by another job; draining again later', { tenant, inbound_webhook_id: webhookId });
  }
}

/**
 * Drain transactions, one after another, until D is reached (or the webhook has nothing left).
 *
 * A webhook's drain that held the lock longer than a job waits for it (DRAIN_LOCK_WAIT_MS: a
 * slow mapping, an action waiting for the tenant's ticket counter) drains once more after its
 * commit: the batches that arrived meanwhile were left to jobs that gave up waiting and
 * rescheduled themselves DRAIN_BUSY_DELAY_MS later, and their deliveries would wait that second
 * out. The next drain takes them now; it ends the loop when it finds nothing pending.
 */
async function drainUntilDone(pool: pg.Pool, tenant: string, target: DrainTarget, options: DispatchOptions): Promise<DrainResult> {
  const lockWaitMs = options.drainLockWaitMs ?? DRAIN_LOCK_WAIT_MS;
  let result: DrainResult = { state: 'not reached' };
  let again: boolean;
  do {
    const began = performance.now();
    result = await drain(pool, tenant, target, options, result.state === 'redo carefully');
    if (result.state === 'busy') return result;
    if (result.state === 'done' || result.state === 'not reached') options.afterCommit?.();
    again = result.state === 'not reached' || result.state === 'redo carefully'
      || ('webhookId' in target && result.state === 'done' && performance.now() - began >= lockWaitMs);
  } while (again);
  return result;
}

/**
 * One drain transaction: takes the webhook's drain lock, loads its pending deliveries (for D's
 * job: if D is still pending), dispatches them in order and commits.
 *
 * Careful, each delivery runs under its own savepoint, so a failure undoes that delivery alone.
 * But the savepoint costs a round trip per delivery, and drains of one tenant's webhooks take
 * turns on the locks their actions hold to the commit (the tenant's ticket counter), so those
 * round trips are the worker's critical path: the benchmark dispatched 0.24 of the no-op rate
 * with a savepoint per delivery and 0.46 without, side by side. So a drain first runs without
 * savepoints; if an action fails, it rolls back and the next transaction drains the same
 * deliveries carefully. A mapping that fails (before any SQL of that delivery) needs no undo and
 * is recorded either way.
 */
async function drain(
  pool: pg.Pool,
  tenant: string,
  target: DrainTarget,
  options: DispatchOptions,
  careful: boolean,
): Promise<DrainResult> {
  const deliveryId = 'deliveryId' in target ? target.deliveryId : null;
  const webhookId = 'webhookId' in target ? target.webhookId : null;
  // Attempts are D's (its job's); a webhook's drain has no D, and every delivery in it is on its
  // first attempt.
  const attempt = 'attempt' in target ? target.attempt : { number: 1, max: 1 };
  const client = await pool.connect();
  try {
    // Round trips are most of a dispatch's cost, so the opening (begin, role and tenant, drain
    // lock, the webhook, its pending deliveries, the first savepoint when careful) is one
    // simple-protocol query, and every delivery's mark goes with the commit. Every value inlined
    // is a validated uuid or escaped by the driver.
    // In read committed each statement sees what committed before it started, so the statements
    // after the lock see every drain that finished before this one got it. The deliveries' rows
    // are locked too, so nothing else changes them (a webhook's deletion waits) until the commit;
    // no key update, not update: the drain never changes a key, and the receiver's key-share
    // lock on a repeat's original (its foreign key, the dedupe check) must not wait out a drain.
    // They are written only by the drain's own transaction, never inside a savepoint: a row
    // locked by a transaction and updated by its subtransaction gets a multixact for its xmax,
    // which stalled every drain that read such rows (LWLock MultiXactMemberSLRU, measured in the
    // benchmark).
    // For D's job: the lock and the webhook through D (and nothing if D is no longer pending),
    // D taken whatever its retries. For a webhook's job: the webhook itself, first attempts only.
    // The lock is waited for at most lock_timeout (set locally): a wait that runs out fails the
    // whole opening (55P03) before any delivery row is locked, and the drain is 'busy'.
    const lockWait = `set local lock_timeout = ${Math.max(1, Math.round(options.drainLockWaitMs ?? DRAIN_LOCK_WAIT_MS))};`;
    // then back to the pool's own lock_timeout (the connection's default) for the rest
    const restoreLockTimeout = 'set local lock_timeout to default;';
    const opening = deliveryId !== null
      ? `${lockWait}
         select pg_advisory_xact_lock(hashtextextended('intake-drain:' || d.inbound_webhook_id::text, 0))
           from intake.inbound_webhook_deliveries d
          where d.tenant = '${tenant}' and d.delivery_id = '${deliveryId}';
         ${restoreLockTimeout}
         select d.dispatch_status, w.inbound_webhook_id, w.slug, w.mapping_namespace, w.handler_type, w.handler_config, w.config_version
           from intake.inbound_webhook_deliveries d
           join intake.inbound_webhooks w on w.tenant = d.tenant and w.inbound_webhook_id = d.inbound_webhook_id
          where d.tenant = '${tenant}' and d.delivery_id = '${deliveryId}';`
      : `${lockWait}
         select pg_advisory_xact_lock(hashtextextended('intake-drain:' || '${webhookId}'::uuid::text, 0));
         ${restoreLockTimeout}
         select 'pending' as dispatch_status, w.inbound_webhook_id, w.slug, w.mapping_namespace, w.handler_type, w.handler_config, w.config_version
           from intake.inbound_webhooks w
          where w.tenant = '${tenant}' and w.inbound_webhook_id = '${webhookId}';`;
    const webhookOfDrain = deliveryId !== null
      ? `(select d.inbound_webhook_id from intake.inbound_webhook_deliveries d
           where d.tenant = '${tenant}' and d.delivery_id = '${deliveryId}' and d.dispatch_status = 'pending')`
      : `'${webhookId}'`;
    const taken = deliveryId !== null ? `(p.retry_count = 0 or p.delivery_id = '${deliveryId}')` : 'p.retry_count = 0';
    let opened: pg.QueryResult[];
    try {
      opened = (await client.query(
      `begin;
       select set_config('role', 'intake_app', true), set_config('intake.tenant', '${tenant}', true);
       ${opening}
       select p.delivery_id, p.received_at, p.dispatch_config_version,
              -- the body apart (migration 000015), or in the row's own column (rows recorded before)
              case when p.body_size is null then p.request_body else b.request_body end::text as request_body,
              -- retention cut it (a delivery pending past INTAKE_BODY_RETENTION_DAYS): what is left of it
              case when p.body_cut_at is not null or (p.body_size is not null and b.delivery_id is null)
                   then intake.delivery_body_note(intake.delivery_with_body(p)) end as body_cut
         from intake.inbound_webhook_deliveries p
         left join intake.inbound_webhook_delivery_bodies b
           on b.tenant = p.tenant and b.delivery_id = p.delivery_id and b.received_at = p.received_at
        where p.tenant = '${tenant}' and p.inbound_webhook_id = ${webhookOfDrain}
          and p.dispatch_status = 'pending' and ${taken}
        order by p.received_at, p.delivery_id
        limit ${DRAIN_LIMIT}
          for no key update of p;
       ${careful ? 'savepoint delivery' : ''}`,
      )) as unknown as pg.QueryResult[];
    } catch (error) {
      if ((error as { code?: string }).code !== '55P03') throw error;
      await client.query('rollback');
      return { state: 'busy' };
    }
    // begin, settings, lock wait, the lock, lock_timeout back, the webhook, the pending deliveries
    const webhook = opened[5]?.rows[0] as WebhookRow | undefined;
    const pending = (opened[6]?.rows ?? []) as PendingRow[];
    // Read as text and parsed here, not by pg (JSON.parse), so 64-bit ids keep every digit.
    for (const row of pending) row.request_body = row.request_body === null ? null : parseJson(row.request_body as string);
    if (!webhook) {
      log.warn(`dispatch: ${deliveryId ? 'delivery' : 'webhook'} no longer exists`,
        deliveryId ? { tenant, delivery_id: deliveryId } : { tenant, inbound_webhook_id: webhookId });
    }
    if (webhook?.dispatch_status !== 'pending' || pending.length === 0) {
      await client.query('rollback');
      return { state: 'not pending' };
    }

    // A replay pinned to an earlier configuration is dispatched with that version's settings
    // (rare: one more query only when the drain has one).
    const configs = await pinnedConfigs(client, webhook, pending);
    const configOf = (row: PendingRow): WebhookRow | undefined =>
      row.dispatch_config_version === null || row.dispatch_config_version === webhook.config_version
        ? webhook
        : configs.get(row.dispatch_config_version);

    // Every delivery's mapping is evaluated (pure JavaScript) before the first action runs: the
    // locks actions take (a tenant's ticket counter, say) are held until the drain commits, so
    // only SQL should happen while they are held.
    const prepared = await Promise.all(pending.map((row) => {
      const config = configOf(row);
      const work = config
        ? prepare(config, row, tenant, options)
        : Promise.reject(new PermanentFailure(`configuration version ${row.dispatch_config_version} of this webhook is not kept; replay with the current configuration`));
      return work.then((work) => ({ work }), (error: unknown) => ({ error }));
    }));

    const references = new Map<string, string>();
    let reached = false;
    let retry: unknown;
    // Marks, written with the commit: the dispatched deliveries in one statement (their
    // outcomes are part of this transaction either way), and one statement per failure.
    const dispatched: { delivery_id: string; outcome: Record<string, unknown>; duration_ms: number; retries: number; config_version: number }[] = [];
    const failures: string[] = [];
    /** deliveries that failed transiently inside this drain and are not D: each gets its own job */
    const ownRetries: string[] = [];
    /** the failures' outcomes, counted once the drain has committed */
    const outcomes: DispatchOutcome[] = [];
    for (const [i, row] of pending.entries()) {
      const isD = row.delivery_id === deliveryId;
      reached ||= isD;
      const began = performance.now();
      // D's job counts its attempts; a delivery taken into another's drain is on its first.
      const earlierAttempts = isD ? attempt.number - 1 : 0;
      const ready = prepared[i]!;
      try {
        if ('error' in ready) throw ready.error;
        const outcome = await ready.work(client, references);
        dispatched.push({
          delivery_id: row.delivery_id, outcome, duration_ms: Math.round(performance.now() - began), retries: earlierAttempts,
          config_version: configOf(row)!.config_version,
        });
        if (careful) await client.query('release savepoint delivery; savepoint delivery');
      } catch (error) {
        if (!careful && !('error' in ready)) {
          // The action may have done part of its work: start over, one savepoint per delivery.
          await client.query('rollback');
          log.debug('an action failed in a drain; draining again with a savepoint per delivery', {
            tenant, delivery_id: row.delivery_id, error: errorMessage(error),
          });
          return { state: 'redo carefully' };
        }
        if (careful) await client.query('rollback to savepoint delivery; release savepoint delivery; savepoint delivery');
        const message = errorMessage(error);
        let record: string;
        if (isPermanent(error) || (isD && attempt.number >= attempt.max)) {
          const final = finalFailureMessage(error, message, attempt.number);
          const text = client.escapeLiteral(final);
          const version = configOf(row)?.config_version;
          record = `set dispatch_status = 'failed', error_message = ${text}, handler_outcome = jsonb_build_object('error', ${text}::text),
                        retry_count = greatest(retry_count, ${earlierAttempts}), duration_ms = ${Math.round(performance.now() - began)},
                        dispatched_at = clock_timestamp(), config_version = ${version === undefined ? 'null' : Math.trunc(version)}`;
          log.info('delivery failed', { tenant, delivery_id: row.delivery_id, error: final });
          outcomes.push('failed');
        } else if (isD) {
          outcomes.push('retry');
          record = `set retry_count = greatest(retry_count, ${attempt.number}), error_message = ${client.escapeLiteral(retryMessage(attempt, message))}`;
          retry = error;
        } else {
          // Its own job retries it, after a backoff; until then later drains pass it by.
          record = `set retry_count = greatest(retry_count, 1),
                        error_message = ${client.escapeLiteral(`attempt failed inside a drain of its webhook, will retry: ${message}`)}`;
          ownRetries.push(row.delivery_id);
          outcomes.push('retry');
          log.debug('delivery failed inside a drain; its own job will retry it', { tenant, delivery_id: row.delivery_id, error: message });
        }
        failures.push(`update intake.inbound_webhook_deliveries ${record} where tenant = '${tenant}' and delivery_id = '${row.delivery_id}'`);
      }
    }
    await client.query(
      `${careful ? 'release savepoint delivery;' : ''}
       ${failures.map((update) => `${update};`).join('\n')}
       ${ownRetries.map((id) => `select intake_private.enqueue_dispatch('${tenant}', '${id}', '${webhook.inbound_webhook_id}',
                                   now() + interval '${OWN_RETRY_DELAY_SECONDS} seconds');`).join('\n')}
       update intake.inbound_webhook_deliveries d
          set dispatch_status = 'dispatched', handler_outcome = v.outcome, error_message = null, dispatched_at = clock_timestamp(),
              duration_ms = v.duration_ms, retry_count = greatest(d.retry_count, v.retries), config_version = v.config_version
         from jsonb_to_recordset(${client.escapeLiteral(JSON.stringify(dispatched))}::jsonb)
              as v(delivery_id uuid, outcome jsonb, duration_ms int, retries int, config_version int)
        where d.tenant = '${tenant}' and d.delivery_id = v.delivery_id
          and d.delivery_id = any('{${dispatched.map((d) => d.delivery_id).join(',')}}'::uuid[]); -- the primary key, whatever the estimates
       commit`,
    );
    const action = actionLabel(webhook);
    for (const outcome of outcomes) countDispatch(action, outcome);
    const applied = new Set(dispatched.map((d) => d.delivery_id));
    for (const row of pending) if (applied.has(row.delivery_id)) countDispatch(action, 'dispatched', row.received_at);
    if (deliveryId === null) return pending.length < DRAIN_LIMIT ? { state: 'done' } : { state: 'not reached' };
    return reached ? { state: 'done', ...(retry === undefined ? {} : { retry }) } : { state: 'not reached' };
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The configurations of the earlier versions the drain's pinned replays name, as WebhookRows
 * (the versions table keeps each in the API's shape: handler with its type).
 */
async function pinnedConfigs(client: pg.PoolClient, webhook: WebhookRow, pending: readonly PendingRow[]): Promise<Map<number, WebhookRow>> {
  const versions = [...new Set(pending.map((row) => row.dispatch_config_version)
    .filter((v): v is number => v !== null && v !== webhook.config_version))];
  const configs = new Map<number, WebhookRow>();
  if (versions.length === 0) return configs;
  const { rows } = await client.query<{ version: number; config: { slug: string; mapping_namespace: string | null; handler: Record<string, unknown> } }>(
    `select version, config from intake.inbound_webhook_versions
      where tenant = intake.current_tenant() and inbound_webhook_id = $1 and version = any($2::int[])`,
    [webhook.inbound_webhook_id, versions],
  );
  for (const { version, config } of rows) configs.set(version, webhookAtVersion(webhook, version, config));
  return configs;
}

/** A webhook as a configuration version describes it (the versions table's config). */
function webhookAtVersion(
  webhook: Pick<WebhookRow, 'inbound_webhook_id'>,
  version: number,
  config: { slug: string; mapping_namespace: string | null; handler: Record<string, unknown> },
): WebhookRow {
  const { handler_type, ...handlerConfig } = config.handler;
  return {
    dispatch_status: 'pending',
    inbound_webhook_id: webhook.inbound_webhook_id,
    slug: config.slug,
    mapping_namespace: config.mapping_namespace,
    handler_type: String(handler_type),
    handler_config: handlerConfig as WebhookRow['handler_config'],
    config_version: version,
  };
}

/** Maps and validates (direct_action) or checks (workflow) one delivery; returns its handler work. */
async function prepare(webhook: WebhookRow, row: PendingRow, tenant: string, options: DispatchOptions): Promise<HandlerWork> {
  if (row.body_cut !== null) throw new PermanentFailure(`cannot be dispatched: its ${row.body_cut}`);
  if (webhook.handler_type === 'direct_action') return directAction(webhook, row, tenant, options);
  if (webhook.handler_type === 'workflow') return startWorkflow(webhook, tenant, row.delivery_id);
  throw new PermanentFailure(`handler type "${webhook.handler_type}" is not available in this version of Intake`);
}

/** Maps and validates the body (inside the transaction, before the action); then the action runs. */
async function directAction(webhook: WebhookRow, row: PendingRow, tenant: string, options: DispatchOptions): Promise<HandlerWork> {
  const actionName = webhook.handler_config.action ?? '';
  const action = getAction(actionName);
  if (!action) throw new PermanentFailure(`action "${actionName}" is not registered`);

  let values: Record<string, unknown>;
  try {
    const mapping = compiledMapping(
      webhook.inbound_webhook_id,
      webhook.config_version,
      webhook.handler_config.field_mapping ?? {},
      options.jsonataTimeoutMs,
    );
    values = validateValues(action, await evaluateMapping(mapping, row.request_body));
  } catch (error) {
    if (error instanceof ActionError) throw error;
    throw new PermanentFailure(errorMessage(error));
  }
  return async (client, references) => {
    const outcome = await action.definition.handle(actionContext(client, tenant, webhook, row.delivery_id, references), values);
    return { action: actionName, ...outcome };
  };
}

/** What an action runs with for a delivery of this webhook (the dispatch's and the dry run's). */
export function actionContext(
  client: pg.ClientBase,
  tenant: string,
  webhook: Pick<WebhookRow, 'inbound_webhook_id' | 'mapping_namespace' | 'slug'>,
  deliveryId: string,
  references: Map<string, string>,
): ActionContext {
  return {
    db: client,
    tenant,
    inboundWebhookId: webhook.inbound_webhook_id,
    deliveryId,
    integrationType: `webhook:${webhook.mapping_namespace ?? webhook.slug}`,
    references,
  };
}

/**
 * Inside the transaction: the workflow must exist and be active (its row is key-share locked, so
 * it cannot be deleted before the run's foreign key is checked); the run is inserted with the
 * envelope as its input, and its run_workflow job enqueued by the database.
 */
function startWorkflow(webhook: WebhookRow, tenant: string, deliveryId: string): HandlerWork {
  const workflowId = webhook.handler_config.workflow_id;
  return async (client) => {
    await activeWorkflow(client, tenant, workflowId, true);
    // Every value inlined is a validated uuid.
    const runId = randomUUID();
    await client.query(
      `insert into intake.workflow_runs (tenant, run_id, workflow_id, workflow_version, definition, delivery_id, input)
       select d.tenant, '${runId}', wf.workflow_id, wf.version, wf.definition, d.delivery_id,
              intake_private.workflow_envelope(w.slug, intake.delivery_with_body(d))
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
 * The handler's workflow, which must exist and be active (else a permanent failure). `lock`: its
 * row is key-share locked, so it cannot be deleted before the run's foreign key is checked.
 */
export async function activeWorkflow(client: pg.ClientBase, tenant: string, workflowId: unknown, lock: boolean): Promise<{ workflow_id: string; name: string }> {
  if (typeof workflowId !== 'string' || !UUID.test(workflowId)) {
    throw new PermanentFailure(`handler_config.workflow_id is not a workflow id: ${JSON.stringify(workflowId ?? null)}`);
  }
  const { rows } = await client.query<{ name: string; is_active: boolean }>(
    `select name, is_active from intake.workflows where tenant = $1 and workflow_id = $2${lock ? ' for key share' : ''}`,
    [tenant, workflowId],
  );
  const workflow = rows[0];
  if (!workflow) throw new PermanentFailure(`workflow ${workflowId} was deleted`);
  if (!workflow.is_active) throw new PermanentFailure(`workflow ${JSON.stringify(workflow.name)} is inactive`);
  return { workflow_id: workflowId, name: workflow.name };
}
