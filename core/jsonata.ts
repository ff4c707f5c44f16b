// JSONata, compiled once and evaluated with jsonata's own guardrails: a time limit, a stack
// depth and a sequence size, so a runaway mapping fails its delivery instead of hanging the
// worker or the receiver.
import jsonata from 'jsonata';

export interface CompiledExpression {
  readonly source: string;
  evaluate(input: unknown): Promise<unknown>;
}

/** A JSONata syntax or evaluation error, with the position jsonata reports. */
export class ExpressionError extends Error {
  readonly code: string | undefined;
  readonly position: number | undefined;
  constructor(message: string, code?: string, position?: number) {
    super(message);
    this.name = 'ExpressionError';
    this.code = code;
    this.position = position;
  }
}

interface JsonataErrorShape {
  code?: string;
  message?: string;
  position?: number;
  token?: string;
}

function toExpressionError(error: unknown, prefix: string): ExpressionError {
  const e = (error ?? {}) as JsonataErrorShape;
  const where = typeof e.position === 'number' ? ` at position ${e.position}` : '';
  return new ExpressionError(`${prefix}${where}: ${e.message ?? String(error)}${e.code ? ` (${e.code})` : ''}`, e.code, e.position);
}

export interface Limits {
  timeoutMs: number;
  /** maximum evaluation depth (recursion) */
  stack?: number;
  /** maximum items in one sequence */
  sequence?: number;
}

export function compileExpression(source: string, limits: Limits): CompiledExpression {
  let expression: jsonata.Expression;
  try {
    expression = jsonata(source, { timeout: limits.timeoutMs, stack: limits.stack ?? 500, sequence: limits.sequence ?? 1_000_000 });
  } catch (error) {
    throw toExpressionError(error, 'invalid JSONata');
  }
  return {
    source,
    async evaluate(input) {
      try {
        return await expression.evaluate(input);
      } catch (error) {
        throw toExpressionError(error, 'JSONata evaluation failed');
      }
    },
  };
}
