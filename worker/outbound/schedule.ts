// When the next attempt of an outbound delivery runs, decided by Intake (graphile-worker's own
// backoff is exp(attempts) and cannot express it): Svix's schedule — immediately, then 5 s,
// 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — each delay with ±20 % jitter; a timeout or a 429 waits
// at least 60 s; a Retry-After asking for longer than that is honoured up to the larger of twice
// the delay and an hour. After the eighth attempt the delivery has failed.
export const RETRY_DELAYS_MS: readonly number[] = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
export const SLOW_DOWN_MIN_MS = 60_000;
export const JITTER = 0.2;
const RETRY_AFTER_CAP_FLOOR_MS = 3_600_000;

export interface FailedAttempt {
  /** 1 for the first try */
  attemptNumber: number;
  /** no answer within the time limit */
  timedOut: boolean;
  status: number | null;
  /** the response's Retry-After, as sent */
  retryAfter: string | null;
}

/** Retry-After in ms (delta-seconds or an HTTP date), or null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** The delay before the next attempt, or null when the schedule is used up. */
export function nextDelayMs(failed: FailedAttempt, random: () => number = Math.random, now = Date.now()): number | null {
  const base = RETRY_DELAYS_MS[failed.attemptNumber - 1];
  if (base === undefined) return null;
  let delay = base * (1 - JITTER + 2 * JITTER * random());
  if (failed.timedOut || failed.status === 429) delay = Math.max(delay, SLOW_DOWN_MIN_MS);
  const asked = parseRetryAfter(failed.retryAfter, now);
  if (asked !== null && asked > delay) delay = Math.min(asked, Math.max(2 * delay, RETRY_AFTER_CAP_FLOOR_MS));
  return Math.round(delay);
}
