// The page's side of evalWorker.ts: one worker, one request at a time in order, and a watchdog
// that terminates the worker (and starts a fresh one for the next request) when an evaluation
// overruns, so the editor stays responsive whatever is typed.
export interface EvalRequest {
  id: number;
  expression: string;
  input: unknown;
  timeoutMs: number;
}

export type EvalReply =
  | { id: number; ok: true; json: string | undefined }
  | { id: number; ok: false; code: string; message: string; position?: number | undefined };

export class EvaluationError extends Error {
  override readonly name = 'EvaluationError';
  readonly code: string;
  readonly position: number | undefined;
  constructor(code: string, message: string, position?: number) {
    super(message);
    this.code = code;
    this.position = position;
  }
}

/** jsonata's own limit, inside the worker */
const STEP_TIMEOUT_MS = 500;
/** the page's limit: past it the worker is terminated */
const WATCHDOG_MS = 1_500;

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();

function start(): Worker {
  const w = new Worker(new URL('./evalWorker.ts', import.meta.url), { type: 'module' });
  w.onmessage = (event: MessageEvent<EvalReply>) => {
    const reply = event.data;
    const entry = pending.get(reply.id);
    if (!entry) return;
    pending.delete(reply.id);
    clearTimeout(entry.timer);
    if (reply.ok) entry.resolve(reply.json === undefined ? undefined : JSON.parse(reply.json));
    else entry.reject(new EvaluationError(reply.code, reply.message, reply.position));
  };
  return w;
}

function restart(): void {
  worker?.terminate();
  worker = null;
  for (const [id, entry] of pending) {
    clearTimeout(entry.timer);
    entry.reject(new EvaluationError('TIMEOUT', 'stopped: the expression ran too long'));
    pending.delete(id);
  }
}

/** Evaluates in the worker; rejects with EvaluationError (code TIMEOUT when it ran too long). */
export function evaluateInWorker(expression: string, input: unknown): Promise<unknown> {
  worker ??= start();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(restart, WATCHDOG_MS);
    pending.set(id, { resolve, reject, timer });
    worker!.postMessage({ id, expression, input, timeoutMs: STEP_TIMEOUT_MS } satisfies EvalRequest);
  });
}
