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
const pending = new Map<number, { request: EvalRequest; resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();

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

/** The request `culprit` overran: it fails; the ones queued behind it go to a fresh worker. */
function restart(culprit: number): void {
  worker?.terminate();
  worker = null;
  const entry = pending.get(culprit);
  if (entry) {
    pending.delete(culprit);
    entry.reject(new EvaluationError('TIMEOUT', 'stopped: the expression ran too long'));
  }
  if (pending.size === 0) return;
  worker = start();
  for (const [id, queued] of pending) {
    clearTimeout(queued.timer);
    queued.timer = setTimeout(() => restart(id), WATCHDOG_MS);
    worker.postMessage(queued.request);
  }
}

/** Evaluates in the worker; rejects with EvaluationError (code TIMEOUT when it ran too long). */
export function evaluateInWorker(expression: string, input: unknown): Promise<unknown> {
  worker ??= start();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const request: EvalRequest = { id, expression, input, timeoutMs: STEP_TIMEOUT_MS };
    const timer = setTimeout(() => restart(id), WATCHDOG_MS);
    pending.set(id, { request, resolve, reject, timer });
    worker!.postMessage(request);
  });
}
