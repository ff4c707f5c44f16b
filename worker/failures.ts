// Which failures a retry can fix. Permanent ones (validation, lookup misses, bad expressions,
// data errors) fail the delivery or workflow run at once; anything else is retried by
// graphile-worker with exponential backoff.
import { ExpressionError } from '../core/jsonata.ts';
import { ActionError } from './actions/index.ts';

/** A failure that no retry can fix. */
export class PermanentFailure extends Error {
  override readonly name = 'PermanentFailure';
}

export function isPermanent(error: unknown): boolean {
  if (error instanceof ActionError || error instanceof ExpressionError || error instanceof PermanentFailure) return true;
  const code = (error as { code?: unknown })?.code;
  // Data exceptions and integrity violations will not change on retry, except unique
  // violations, which a concurrent writer can cause and a retry resolves.
  return typeof code === 'string' && (code.startsWith('22') || (code.startsWith('23') && code !== '23505'));
}

/**
 * What a delivery or workflow run that fails for good records: the failure's own message when no
 * retry could fix it, otherwise that the attempts ran out.
 */
export function finalFailureMessage(cause: unknown, message: string, attemptNumber: number): string {
  return isPermanent(cause) ? message : `gave up after ${attemptNumber} attempts: ${message}`;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
