// The Web Worker the editor evaluates expressions in, so a runaway one never blocks the page:
// jsonata's own limits (time between steps, stack depth) end most of them here, and the page
// terminates this worker when an answer is late (a catastrophic regex cannot be interrupted).
import jsonata from 'jsonata';
import type { EvalReply, EvalRequest } from './evaluator.ts';

const compiled = new Map<string, jsonata.Expression>();

self.onmessage = async (event: MessageEvent<EvalRequest>) => {
  const { id, expression, input, timeoutMs } = event.data;
  let reply: EvalReply;
  try {
    let e = compiled.get(expression);
    if (!e) {
      if (compiled.size > 200) compiled.clear();
      e = jsonata(expression, { timeout: timeoutMs, stack: 200 } as Parameters<typeof jsonata>[1]);
      compiled.set(expression, e);
    }
    const value = await e.evaluate(input);
    // lambdas and sequences become plain JSON (undefined stays "no value")
    reply = { id, ok: true, json: value === undefined ? undefined : JSON.stringify(value) };
  } catch (error) {
    const e = error as { code?: string; message?: string; position?: number };
    reply = { id, ok: false, code: e.code ?? 'ERROR', message: e.message ?? String(error), position: e.position };
  }
  (self as unknown as Worker).postMessage(reply);
};
