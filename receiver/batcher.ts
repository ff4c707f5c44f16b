// Natural batching with a commit pipeline. Requests that arrive while a batch is being executed
// wait and go together in the next one (one transaction, one commit, one NOTIFY for many
// requests), which is what lets the receiver keep up with Postgres.
//
// Execution: batches execute one at a time, in submission order. The next batch starts
// executing as soon as the previous one's statement has returned — while that one is still
// committing — so Postgres is never idle waiting for the client between a commit and the next
// statement, and several commits can be in flight at once (Postgres flushes them together).
// How many batches may be executed but not yet committed follows the measured commit latency
// (see `depth` below), up to `maxUncommitted`.
//
// Commit order: one key's items (a webhook's deliveries) must become visible in submission
// order; batches of other keys need not wait for each other. A batch's COMMIT is sent once no
// earlier batch still in flight shares a key with it, unless that earlier batch reported, for
// the shared key, that it holds its order until it commits (`holdsOrder`: for deliveries, the
// webhook's drain lock held shared, so no drain of the webhook can run until that batch has
// committed, and any drain after it sees both batches). Without `keyOf`, every batch shares one
// key and batches commit in submission order.
//
// Why this cannot deadlock: a batch only starts executing once every earlier batch has finished
// executing, so an earlier batch never waits on a lock held by a later one; a later batch may
// wait on an earlier one's locks (a repeated idempotency key), which are released when that one
// commits, and that commit never waits on anything later.
//
// A batch with no uncommitted batch ahead of it is executed and committed in one step (one round
// trip): nothing can overtake it, since the next batch only starts once it has returned. A lone
// request on a quiet system is such a batch of one.
import { observeReceiveBatch } from '../core/metrics.ts';

export interface Pending<O> {
  /** one result per item, in order; handed to the callers once commit() has succeeded */
  results: O[];
  commit(): Promise<void>;
}

export interface BatcherOptions<I, O> {
  maxBatch: number;
  /** batches executed but not yet committed, at most (each holds a database connection) */
  maxUncommitted: number;
  /** Executes and commits a batch at once; one result per item, in order. */
  run(items: I[]): Promise<O[]>;
  /** Executes a batch in an open transaction; commit() finishes it. On error nothing is kept. */
  execute(items: I[]): Promise<Pending<O>>;
  /**
   * Runs one item alone: used when a batch fails, so one bad item cannot fail the others. Items
   * keep their ids, so when the failure came after the batch had committed (a connection reset
   * after an autocommitted run) this finds them recorded and changes nothing.
   */
  runOne(item: I): Promise<O>;
  /**
   * After a COMMIT that failed with an unknown outcome: the batch's results if it did commit
   * (read back by the items' ids), or null if it did not.
   */
  settle(items: I[]): Promise<O[] | null>;
  /** the ordering key of an item (a webhook); absent: one key for all */
  keyOf?(item: I): string;
  /**
   * Whether an executed item's key cannot be observed out of order before its batch commits, so
   * later batches of that key may commit first. Absent: never.
   */
  holdsOrder?(result: O): boolean;
  /** the pipeline's depth from what was measured; absent: measuredDepth (tests fix it) */
  depth?(stats: Omit<BatcherStats, 'depth'>, maxUncommitted: number): number;
}

/** What the batcher has measured, for the benchmark and logs. */
export interface BatcherStats {
  batches: number;
  items: number;
  /** smoothed ms from sending a pipelined batch's COMMIT to its reply */
  commitMs: number;
  /** smoothed ms of a batch's execution (its statement, before COMMIT) */
  executeMs: number;
  /** batches that may be executed but not yet committed now */
  depth: number;
}

interface Waiting<I, O> {
  item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

/**
 * Pipelining pays when a commit takes long against an execution: a second batch executing while
 * the first commits loses nothing to the wait, and commits in flight together share a flush.
 * When commits are quick it only splits requests into smaller batches, each paying a call's
 * fixed cost. So the depth is measured, not set: one batch more in flight for each execution's
 * time a commit takes (1 when a commit is quicker than an execution). Until both are measured
 * the depth is 2, so that commits get measured at all.
 */
export function measuredDepth(stats: Omit<BatcherStats, 'depth'>, maxUncommitted: number): number {
  if (stats.commitMs === 0 || stats.executeMs === 0) return Math.min(2, maxUncommitted);
  return 1 + Math.floor(stats.commitMs / stats.executeMs);
}

interface InFlight {
  keys: Set<string>;
  /** keys this batch does not hold in order (known once it has executed) */
  unheld: Set<string> | null;
  finished: Promise<void>;
}

const SMOOTHING = 0.1;
const REMEASURE_EVERY = 64;

export function createBatcher<I, O>(options: BatcherOptions<I, O>): { submit(item: I): Promise<O>; stats(): BatcherStats } {
  const queue: Waiting<I, O>[] = [];
  const keyOf = options.keyOf ?? (() => '');
  const holdsOrder = options.holdsOrder ?? (() => false);
  let executing = false;
  let uncommitted = 0;
  const inFlight = new Set<InFlight>();
  /** settles when every batch so far has finished (committed, or failed and been settled) */
  let lastFinished: Promise<void> = Promise.resolve();
  const stats = { batches: 0, items: 0, commitMs: 0, executeMs: 0 };

  const depth = () => Math.max(1, Math.min(options.maxUncommitted, (options.depth ?? measuredDepth)(stats, options.maxUncommitted)));
  const smooth = (previous: number, sample: number) => (previous === 0 ? sample : previous + SMOOTHING * (sample - previous));

  /** Settles when every earlier batch in flight that this one must commit after has finished. */
  function turnToCommit(self: InFlight): Promise<unknown> {
    const waits: Promise<void>[] = [];
    for (const other of inFlight) {
      if (other === self) break; // a Set iterates in insertion order: the rest came later
      const mustWait = other.unheld === null || [...self.keys].some((key) => other.unheld!.has(key));
      if (mustWait) waits.push(other.finished);
    }
    return Promise.all(waits);
  }

  async function runBatch(batch: Waiting<I, O>[], previous: Promise<void>, alone: boolean, self: InFlight): Promise<void> {
    const items = batch.map((w) => w.item);
    let results: O[] | null = null;
    let pending: Pending<O> | null = null;
    const started = performance.now();
    try {
      // Now and then a lone batch goes as BEGIN … COMMIT too, so the latencies stay measured
      // while the depth is 1 and every batch is alone.
      if (alone && stats.batches % REMEASURE_EVERY !== 0) results = await options.run(items);
      else pending = await options.execute(items);
    } catch {
      // The batch failed as a whole: each item alone, in order, so the bad one fails (or is
      // recorded another way) and the rest succeed. Only after earlier batches have committed,
      // and before the next batch executes: these items must neither overtake earlier ones nor
      // wait on locks that a later, uncommitted batch holds.
      try {
        await previous;
        for (const w of batch) await options.runOne(w.item).then(w.resolve, w.reject);
      } finally {
        executing = false;
        pump();
      }
      return;
    }
    if (pending) {
      stats.executeMs = smooth(stats.executeMs, performance.now() - started);
      self.unheld = new Set(items.filter((item, i) => !holdsOrder(pending!.results[i]!)).map(keyOf));
    }
    executing = false;
    pump(); // the next batch executes while this one waits for its turn to commit
    if (pending) {
      await turnToCommit(self);
      const committing = performance.now();
      try {
        await pending.commit();
        stats.commitMs = smooth(stats.commitMs, performance.now() - committing);
        results = pending.results;
      } catch (error) {
        // The outcome of a failed COMMIT is unknown to us: read it back. Committed, the senders
        // get their answers; not, they are told to retry (5xx), and nothing of it was kept. (Not
        // re-run here: later batches have executed meanwhile and wait for this one, and a re-run
        // could wait on their locks.)
        const settled = await options.settle(items).catch(() => null);
        if (settled) batch.forEach((w, i) => w.resolve(settled[i]!));
        else for (const w of batch) w.reject(error);
        return;
      }
    }
    batch.forEach((w, i) => w.resolve(results![i]!));
  }

  function pump(): void {
    if (executing || uncommitted >= depth() || queue.length === 0) return;
    const batch = queue.splice(0, options.maxBatch);
    const alone = uncommitted === 0;
    executing = true;
    uncommitted++;
    stats.batches++;
    stats.items += batch.length;
    const previous = lastFinished;
    let finish!: () => void;
    const self: InFlight = { keys: new Set(batch.map((w) => keyOf(w.item))), unheld: null, finished: new Promise<void>((resolve) => (finish = resolve)) };
    inFlight.add(self);
    const finished = observeReceiveBatch(batch.length, runBatch(batch, previous, alone, self))
      .catch((error: unknown) => {
        for (const w of batch) w.reject(error);
      })
      .finally(() => {
        inFlight.delete(self);
        finish();
        uncommitted--;
        pump();
      });
    lastFinished = previous.then(() => finished);
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        pump();
      });
    },
    stats: () => ({ ...stats, depth: depth() }),
  };
}
