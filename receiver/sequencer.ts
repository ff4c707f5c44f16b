// Keeps one webhook's requests in arrival order on their way into the recorder. A request takes
// a turn when it arrives (before anything asynchronous: config lookup, Redis, JSONata), and
// hands its delivery to the recorder only after every earlier request to the same URL has
// handed over its own or left (rejected, failed, disconnected). Without it, a request whose
// config lookup or idempotency expression happened to finish sooner could overtake the one
// sent before it.

export interface Turn {
  /** resolves when every earlier request on this key has handed over or left */
  readonly ready: Promise<void>;
  /** this request has handed over (or left); idempotent */
  done(): void;
}

export class Sequencer {
  private readonly tails = new Map<string, Promise<void>>();

  take(key: string): Turn {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    // The next request waits for this one and, through it, for all before it.
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    let finished = false;
    return {
      ready: previous,
      done: () => {
        if (finished) return;
        finished = true;
        release();
        void tail.then(() => {
          if (this.tails.get(key) === tail) this.tails.delete(key);
        });
      },
    };
  }
}
