// The per-webhook rate limit: rate_limit_per_minute requests per fixed minute window, counted in
// express-rate-limit's store (Redis through rate-limit-redis when REDIS_URL is set, so every
// receiver process shares the count; otherwise its MemoryStore, per process). The inbound route
// does not run through Express, so the store is used directly rather than as middleware.
import { MemoryStore, type Options, type Store } from 'express-rate-limit';
import { errorMessage, log } from '../core/log.ts';

const WINDOW_MS = 60_000;

export type RateLimitVerdict = { limited: false } | { limited: true; retryAfterSeconds: number };

export interface RateLimiter {
  /** Counts one request of the webhook; `limit` 0 means unlimited (nothing is counted). */
  hit(webhookId: string, limit: number): Promise<RateLimitVerdict>;
}

export function createRateLimiter(store: Store | undefined): RateLimiter {
  const counts = store ?? new MemoryStore();
  // Stores read only windowMs from the options they are given.
  void Promise.resolve(counts.init?.({ windowMs: WINDOW_MS } as Options)).catch((error: unknown) => {
    log.warn('rate-limit store did not initialise; limits fail open until it does', { error: errorMessage(error) });
  });
  let lastError = '';
  return {
    async hit(webhookId, limit) {
      if (limit === 0) return { limited: false };
      let info;
      try {
        info = await counts.increment(webhookId);
      } catch (error) {
        // Fail open: a Redis outage must not turn every sender away.
        const message = errorMessage(error);
        if (message !== lastError) log.warn('rate-limit store failed; request let through', { error: message });
        lastError = message;
        return { limited: false };
      }
      lastError = '';
      if (info.totalHits <= limit) return { limited: false };
      const reset = info.resetTime?.getTime();
      return { limited: true, retryAfterSeconds: reset ? Math.max(1, Math.ceil((reset - Date.now()) / 1000)) : 60 };
    },
  };
}
