// Natural batching with a commit pipeline. Requests that arrive while a batch is being executed
// wait and go together in the next one (one transaction, one commit, one NOTIFY for many
// requests), which is what lets the receiver keep up with Postgres.
//
// Order: batches execute one at a time, in submission order, and commit in that same order. The
// next batch starts executing as soon as the previous one's statement has returned — while that
// one is still committing — but its own COMMIT is sent only after every earlier batch's commit
// has finished. So one webhook's deliveries always become visible in arrival order, yet Postgres
// is never idle waiting for the client between a commit and the next statement.
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
}

interface Waiting<I, O> {
  item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

export function createBatcher<I, O>(options: BatcherOptions<I, O>): { submit(item: I): Promise<O> } {
  const queue: Waiting<I, O>[] = [];
  let executing = false;
  let uncommitted = 0;
  /** settles when the latest batch has finished (committed, or failed and been settled) */
  let lastFinished: Promise<void> = Promise.resolve();

  async function runBatch(batch: Waiting<I, O>[], previous: Promise<void>, alone: boolean): Promise<void> {
    const items = batch.map((w) => w.item);
    let results: O[] | null = null;
    let pending: Pending<O> | null = null;
    try {
      if (alone) results = await options.run(items);
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
    executing = false;
    pump(); // the next batch executes while this one waits for its turn to commit
    await previous;
    if (pending) {
      try {
        await pending.commit();
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
    if (executing || uncommitted >= options.maxUncommitted || queue.length === 0) return;
    const batch = queue.splice(0, options.maxBatch);
    const alone = uncommitted === 0;
    executing = true;
    uncommitted++;
    const previous = lastFinished;
    const finished = observeReceiveBatch(batch.length, runBatch(batch, previous, alone))
      .catch((error: unknown) => {
        for (const w of batch) w.reject(error);
      })
      .finally(() => {
        uncommitted--;
        pump();
      });
    lastFinished = finished;
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        pump();
      });
    },
  };
}
