// Natural batching: while up to `maxInFlight` batches are being committed, requests that arrive
// wait and go together in the next one. A lone request on a quiet system goes at once, alone;
// under load, many requests share one transaction (one commit, one NOTIFY), which is what lets
// the receiver keep up with Postgres. Each caller still gets its own result only after commit.

export interface BatcherOptions<I, O> {
  maxBatch: number;
  maxInFlight: number;
  /**
   * Items with the same key are never in two batches in flight at once, so they commit in the
   * order they were submitted (one webhook's deliveries, in arrival order).
   */
  keyOf(item: I): string;
  /** Runs one batch; must return one result per item, in order. */
  run(items: I[]): Promise<O[]>;
  /** Runs one item alone: used when a batch fails, so one bad item cannot fail the others. */
  runOne(item: I): Promise<O>;
}

interface Waiting<I, O> {
  item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

export function createBatcher<I, O>(options: BatcherOptions<I, O>): { submit(item: I): Promise<O> } {
  let queue: Waiting<I, O>[] = [];
  let inFlight = 0;
  /** keys with a batch in flight (at most one batch per key) */
  const busy = new Set<string>();

  /** The next batch: waiting items whose key is not in flight, in submission order. */
  function takeBatch(): Waiting<I, O>[] {
    const batch: Waiting<I, O>[] = [];
    const rest: Waiting<I, O>[] = [];
    for (const waiting of queue) {
      if (batch.length < options.maxBatch && !busy.has(options.keyOf(waiting.item))) batch.push(waiting);
      else rest.push(waiting);
    }
    queue = rest;
    return batch;
  }

  async function runBatch(batch: Waiting<I, O>[]): Promise<void> {
    try {
      if (batch.length === 1) {
        batch[0]!.resolve(await options.runOne(batch[0]!.item));
        return;
      }
      let results: O[];
      try {
        results = await options.run(batch.map((w) => w.item));
      } catch {
        // Settle each alone, in order: the bad item fails (or is recorded another way), the
        // rest succeed.
        for (const w of batch) await options.runOne(w.item).then(w.resolve, w.reject);
        return;
      }
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }

  function pump(): void {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const batch = takeBatch();
      if (batch.length === 0) return; // everything waiting belongs to keys in flight
      const keys = new Set(batch.map((w) => options.keyOf(w.item)));
      for (const key of keys) busy.add(key);
      inFlight++;
      void runBatch(batch).finally(() => {
        for (const key of keys) busy.delete(key);
        inFlight--;
        pump();
      });
    }
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
