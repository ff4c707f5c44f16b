// Natural batching: while up to `maxInFlight` batches are being committed, requests that arrive
// wait and go together in the next one. A lone request on a quiet system goes at once, alone;
// under load, many requests share one transaction (one commit, one NOTIFY), which is what lets
// the receiver keep up with Postgres. Each caller still gets its own result only after commit.

export interface BatcherOptions<I, O> {
  maxBatch: number;
  maxInFlight: number;
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
  const queue: Waiting<I, O>[] = [];
  let inFlight = 0;

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
        // Settle each alone: the bad item fails (or is recorded another way), the rest succeed.
        await Promise.all(batch.map((w) => options.runOne(w.item).then(w.resolve, w.reject)));
        return;
      }
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }

  function pump(): void {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, options.maxBatch);
      inFlight++;
      void runBatch(batch).finally(() => {
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
