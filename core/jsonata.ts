// JSONata with guardrails. Expressions are parsed here (so a bad one is refused where it is
// saved, and a delivery's error names its field) but never evaluated on the calling thread:
// jsonata checks its time limit only between evaluation steps, so one built-in call (a
// catastrophic regex in $match, a $pad or $join building a huge string) would block the event
// loop, and with it every tenant's requests and drains, for as long as it runs.
//
// Evaluations run on a small pool of worker threads (our own on node:worker_threads rather than
// piscina: the one thing we need from a pool is a per-evaluation limit whose clock starts when a
// thread begins that evaluation, not when it was queued, and a thread terminated when it
// overruns; that is a hundred lines here, against a dependency whose abort is per task from
// submission). Each task is one evaluation: an idempotency expression, a workflow expression,
// or all fields of one delivery's mapping (one trip to a thread, one copy of the body). A task
// that runs past its limit has its thread terminated and replaced, and fails alone with a clear
// message; queued tasks start their own clocks on a free thread. Results are returned as JSON
// text, bounded in size, and a thread's heap is bounded (a thread that runs out fails its task).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import jsonata from 'jsonata';
import type { ThreadProgress, ThreadReply, ThreadResult, ThreadTask } from './jsonataThread.ts';
import { timedEvaluation } from './metrics.ts';

export interface CompiledExpression {
  readonly source: string;
  evaluate(input: unknown): Promise<unknown>;
}

/** Several expressions evaluated over one input as ONE evaluation (a delivery's field mapping). */
export interface CompiledExpressionSet {
  readonly sources: readonly string[];
  /** the values in the order of the sources; throws an ExpressionError whose `index` names the failing one */
  evaluate(input: unknown): Promise<unknown[]>;
  /**
   * The same one evaluation, but every expression's own result (a value or its error), for a
   * dry run that reports each field. Throws only when the evaluation as a whole failed (its
   * time limit, memory, a crashed thread).
   */
  evaluateEach(input: unknown): Promise<ExpressionResult[]>;
}

export type ExpressionResult = { ok: true; value: unknown } | { ok: false; error: ExpressionError };

/** A JSONata syntax or evaluation error, with the position jsonata reports. */
export class ExpressionError extends Error {
  readonly code: string | undefined;
  readonly position: number | undefined;
  /** in a set: which expression failed; undefined when the evaluation as a whole did (its time limit, memory) */
  readonly index: number | undefined;
  constructor(message: string, code?: string, position?: number, index?: number) {
    super(message);
    this.name = 'ExpressionError';
    this.code = code;
    this.position = position;
    this.index = index;
  }
}

interface JsonataErrorShape {
  code?: string;
  message?: string;
  position?: number;
}

function toExpressionError(error: unknown, prefix: string, index?: number): ExpressionError {
  const e = (error ?? {}) as JsonataErrorShape;
  const where = typeof e.position === 'number' ? ` at position ${e.position}` : '';
  return new ExpressionError(`${prefix}${where}: ${e.message ?? String(error)}${e.code ? ` (${e.code})` : ''}`, e.code, e.position, index);
}

export interface Limits {
  /** the hard limit of one evaluation, measured from when a thread starts it */
  timeoutMs: number;
  /** maximum evaluation depth (recursion) */
  stack?: number;
  /** maximum items in one sequence */
  sequence?: number;
  /**
   * whose evaluations these are (a webhook's id): one owner's evaluations hold at most all
   * threads but one, so a runaway expression of one webhook, each evaluation running to its
   * limit, never leaves every other webhook queued behind it
   */
  owner?: string;
}

export interface PoolSettings {
  /** worker threads (default: the cores, between 2 and 4) */
  threads: number;
  /** largest result of one evaluation, in characters of JSON (default 1 MiB) */
  maxOutputChars: number;
  /** each thread's heap limit in MB (default 64) */
  heapMb: number;
}

const defaults: PoolSettings = {
  threads: Math.min(4, Math.max(2, availableParallelism())),
  maxOutputChars: 1024 * 1024,
  heapMb: 64,
};
let settings: PoolSettings = { ...defaults };

/**
 * Sets the pool's size and bounds (server/runtime.ts, from the environment); applies to threads
 * started after. Returns the settings before, so a test can put them back.
 */
export function configureExpressionPool(next: Partial<PoolSettings>): PoolSettings {
  const before = settings;
  settings = { ...settings, ...next };
  return before;
}

/** Parses the source (throws an ExpressionError for a syntax error); evaluation goes to the pool. */
export function compileExpression(source: string, limits: Limits): CompiledExpression {
  const set = compileExpressions([source], limits);
  return {
    source,
    async evaluate(input) {
      const [value] = await set.evaluate(input);
      return value;
    },
  };
}

export function compileExpressions(sources: readonly string[], limits: Limits): CompiledExpressionSet {
  for (const [index, source] of sources.entries()) {
    try {
      jsonata(source);
    } catch (error) {
      throw toExpressionError(error, 'invalid JSONata', index);
    }
  }
  const stack = limits.stack ?? 500;
  const sequence = limits.sequence ?? 1_000_000;
  const evaluateEach = async (input: unknown): Promise<ExpressionResult[]> => {
    if (sources.length === 0) return [];
    const results = await pool().run({ sources: [...sources], input, timeoutMs: limits.timeoutMs, stack, sequence, owner: limits.owner });
    // A thread stops at a result over the size limit: the expressions after it were not evaluated.
    return sources.map((_, index): ExpressionResult => {
      const result = results[index];
      if (!result) return { ok: false, error: new ExpressionError('not evaluated: an earlier result exceeded the size limit', 'OUTPUT_LIMIT', undefined, index) };
      if (!result.ok) return { ok: false, error: toExpressionError(result, 'JSONata evaluation failed', index) };
      return { ok: true, value: result.json === undefined ? undefined : JSON.parse(result.json) };
    });
  };
  return {
    sources,
    async evaluate(input) {
      return (await evaluateEach(input)).map((result) => {
        if (!result.ok) throw result.error;
        return result.value;
      });
    },
    evaluateEach,
  };
}

/** What the pool's threads are doing now: ready (started) or not, and whose evaluation each runs. */
export interface ExpressionPoolState {
  threads: { ready: boolean; owner: string | null; busy: boolean }[];
  queued: number;
}

/** The pool's state now (diagnostics, and the tests that check who may use which thread). */
export function expressionPoolState(): ExpressionPoolState {
  return shared?.state() ?? { threads: [], queued: 0 };
}

/** Stops the pool's threads (they hold no work between evaluations; tests and shutdown). */
export async function closeExpressionPool(): Promise<void> {
  const current = shared;
  shared = null;
  await current?.close();
}

type Task = Omit<ThreadTask, 'id' | 'maxOutputChars'> & {
  owner: string | undefined;
  resolve(results: ThreadResult[]): void;
  reject(error: Error): void;
};

interface Slot {
  worker: Worker;
  ready: boolean;
  task: Task | null;
  taskId: number;
  /** which of the task's expressions the thread is evaluating */
  at: number;
  timer: NodeJS.Timeout | null;
}

const THREAD_URL = new URL('./jsonataThread.ts', import.meta.url);

/** How long an owner whose evaluation overran waits for threads of its own (ExpressionPool.next). */
const OVERRAN_MEMORY_MS = 60_000;

class ExpressionPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Task[] = [];
  /** owners whose evaluation ran into the hard limit, until when they count as such */
  private readonly overran = new Map<string, number>();
  private nextId = 1;
  private closed = false;

  run(task: Omit<Task, 'resolve' | 'reject'>): Promise<ThreadResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...task, resolve, reject });
      this.pump();
    });
  }

  state(): ExpressionPoolState {
    return {
      threads: [...this.slots].map((slot) => ({ ready: slot.ready, owner: slot.task?.owner ?? null, busy: slot.task !== null })),
      queued: this.queue.length,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new ExpressionError('JSONata evaluation cancelled: shutting down', 'CLOSED'));
    await Promise.all([...this.slots].map((slot) => this.retire(slot, new ExpressionError('JSONata evaluation cancelled: shutting down', 'CLOSED'))));
  }

  /**
   * The first queued task that may start on `slot` (a ready, idle thread). An owner runs at most
   * all threads but one at once (Limits.owner). And an owner whose evaluation overran lately
   * (its thread was stopped) starts only where a ready thread is left that none of those owners
   * hold: when its thread is stopped, the threads left are the others', and it waits for the
   * replacement to start (about 0.1 s idle, a second or more on a busy machine) instead of
   * taking the one thread another webhook was about to use.
   */
  private next(slot: Slot): Task | undefined {
    const share = Math.max(1, settings.threads - 1);
    const now = Date.now();
    for (const [owner, until] of this.overran) if (until <= now) this.overran.delete(owner);
    const running = new Map<string, number>();
    let spare = 0; // ready threads besides `slot` that no owner who overran holds
    for (const other of this.slots) {
      const owner = other.task?.owner;
      if (owner !== undefined) running.set(owner, (running.get(owner) ?? 0) + 1);
      if (other !== slot && other.ready && (owner === undefined || !this.overran.has(owner))) spare++;
    }
    const reserve = settings.threads >= 2;
    const index = this.queue.findIndex((task) => task.owner === undefined
      || ((running.get(task.owner) ?? 0) < share && (!reserve || spare > 0 || !this.overran.has(task.owner))));
    return index === -1 ? undefined : this.queue.splice(index, 1)[0];
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) break;
      if (!slot.ready || slot.task !== null) continue;
      const task = this.next(slot);
      if (!task) continue;
      this.start(slot, task);
    }
    // A queued task may be waiting for a thread of its own (above) while others are idle: while
    // anything waits, the pool is kept at its full size.
    while (!this.closed && this.queue.length > 0 && this.slots.size < settings.threads) this.spawn();
  }

  private spawn(): void {
    const worker = new Worker(THREAD_URL, {
      resourceLimits: { maxOldGenerationSizeMb: settings.heapMb, maxYoungGenerationSizeMb: Math.max(4, settings.heapMb / 8) },
      stdout: false,
      stderr: false,
    });
    const slot: Slot = { worker, ready: false, task: null, taskId: 0, at: 0, timer: null };
    this.slots.add(slot);
    worker.on('message', (message: 'ready' | ThreadReply | ThreadProgress) => {
      if (message === 'ready') {
        slot.ready = true;
        worker.unref();
        this.pump();
        return;
      }
      if (slot.task === null || message.id !== slot.taskId) return;
      if ('at' in message) {
        slot.at = message.at;
        return;
      }
      const task = slot.task;
      this.finish(slot);
      task.resolve(message.results);
      this.pump();
    });
    worker.on('error', (error: Error & { code?: string }) => {
      const message = error.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `JSONata evaluation stopped: it used more than the ${settings.heapMb} MB an evaluation may use`
        : `JSONata evaluation failed: its thread crashed: ${error.message}`;
      const failed = new ExpressionError(message, error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'MEMORY_LIMIT' : 'THREAD_CRASHED');
      // its thread is lost as to an overrun: the owner waits for threads of its own (next())
      const owner = slot.task?.owner;
      if (owner !== undefined) this.overran.set(owner, Date.now() + OVERRAN_MEMORY_MS);
      // A thread that cannot even start would fail every queued task the same way: fail them now
      // rather than respawn in a loop.
      if (!slot.ready) for (const task of this.queue.splice(0)) task.reject(failed);
      void this.retire(slot, failed);
    });
    worker.on('exit', () => {
      if (!this.slots.has(slot)) return;
      void this.retire(slot, new ExpressionError('JSONata evaluation failed: its thread exited', 'THREAD_CRASHED'));
    });
  }

  private start(slot: Slot, untimed: Task): void {
    const task = timedEvaluation(untimed);
    slot.task = task;
    slot.taskId = this.nextId++;
    slot.at = 0;
    slot.worker.ref(); // an evaluation in flight keeps the process up, an idle thread does not
    // The clock starts now, on a free thread: time spent queued behind other evaluations is not
    // counted against this one. jsonata's own limit (the same, checked between steps) usually
    // ends a slow evaluation first, with the step and the field it was in and no thread lost;
    // the grace lets it, and the thread is stopped only when it cannot (one long native call).
    slot.timer = setTimeout(() => {
      if (task.owner !== undefined) this.overran.set(task.owner, Date.now() + OVERRAN_MEMORY_MS);
      // D1012: jsonata's own code for an evaluation that timed out
      void this.retire(slot, new ExpressionError(
        `JSONata evaluation timeout: it ran longer than ${task.timeoutMs} ms (INTAKE_JSONATA_TIMEOUT_MS) and was stopped (D1012)`,
        'D1012', undefined, slot.at));
    }, task.timeoutMs + Math.min(1000, Math.max(50, task.timeoutMs / 4)));
    const message: ThreadTask = {
      id: slot.taskId, sources: task.sources, input: task.input, timeoutMs: task.timeoutMs,
      stack: task.stack, sequence: task.sequence, maxOutputChars: settings.maxOutputChars,
    };
    try {
      slot.worker.postMessage(message);
    } catch (error) {
      // the input cannot be copied to a thread (it was not JSON to begin with)
      this.finish(slot);
      task.reject(new ExpressionError(`JSONata evaluation failed: ${(error as Error).message}`, 'INPUT'));
      this.pump();
    }
  }

  private finish(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.task = null;
    slot.worker.unref();
  }

  /** Fails the slot's task (if any), terminates its thread and lets the pool start another. */
  private async retire(slot: Slot, error: ExpressionError): Promise<void> {
    if (!this.slots.delete(slot)) return;
    const task = slot.task;
    this.finish(slot);
    task?.reject(error);
    const terminated = slot.worker.terminate().catch(() => 0);
    if (!this.closed) this.pump();
    await terminated;
  }
}

let shared: ExpressionPool | null = null;
function pool(): ExpressionPool {
  shared ??= new ExpressionPool();
  return shared;
}
