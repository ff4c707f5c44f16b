// Two limits share one store. Before authentication, a coarse one per source address
// (INTAKE_SOURCE_RATE_LIMIT_PER_MINUTE), the same for known and unknown URLs, so a stranger's
// flood costs little and reveals nothing. After it, the per-webhook limit counts verified
// requests only, so nobody but the sender can use up a webhook's allowance.
//
// The per-webhook rate limit: rate_limit_per_minute requests per fixed minute window, counted in
// express-rate-limit's store (Redis through rate-limit-redis when REDIS_URL is set, so every
// receiver process shares the count; otherwise its MemoryStore, per process). The inbound route
// does not run through Express, so the store is used directly rather than as middleware.
import { isIP } from 'node:net';
import { MemoryStore, type Options, type Store } from 'express-rate-limit';
import { errorMessage, log } from '../core/log.ts';

const WINDOW_MS = 60_000;

export type RateLimitVerdict = { limited: false } | { limited: true; retryAfterSeconds: number };

export interface RateLimiter {
  /**
   * Counts one request under `key` (a webhook id, or sourceKey() of an address); `limit` 0 means
   * unlimited (nothing is counted).
   */
  hit(key: string, limit: number): Promise<RateLimitVerdict>;
}

/** The eight 16-bit groups of an IPv6 address, or null. */
function ipv6Groups(address: string): number[] | null {
  const [head = '', tail] = address.split('::');
  const part = (text: string) => (text === '' ? [] : text.split(':'));
  let groups = part(head);
  let rest = tail === undefined ? [] : part(tail);
  // an embedded IPv4 tail (::ffff:1.2.3.4) is two groups
  const last = (tail === undefined ? groups : rest).at(-1);
  if (last !== undefined && last.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = last.split('.').map(Number);
    const v4 = [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    if (tail === undefined) groups = [...groups.slice(0, -1), ...v4];
    else rest = [...rest.slice(0, -1), ...v4];
  }
  const missing = 8 - groups.length - rest.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return null;
  return [...groups, ...Array(tail === undefined ? 0 : missing).fill('0'), ...rest].map((g) => parseInt(g, 16));
}

/**
 * The source-limit key of an address: an IPv4 address itself; for IPv6 its /64, which one host
 * usually has whole (counting single IPv6 addresses would let it rotate past the limit).
 */
export function sourceKey(address: string): string {
  if (isIP(address) === 6) {
    const groups = ipv6Groups(address);
    if (groups) return `src:${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
  }
  return `src:${address}`;
}

export function createRateLimiter(store: Store | undefined): RateLimiter {
  const counts = store ?? new MemoryStore();
  // Stores read only windowMs from the options they are given.
  void Promise.resolve(counts.init?.({ windowMs: WINDOW_MS } as Options)).catch((error: unknown) => {
    log.warn('rate-limit store did not initialise; limits fail open until it does', { error: errorMessage(error) });
  });
  let lastError = '';
  return {
    async hit(key, limit) {
      if (limit === 0) return { limited: false };
      let info;
      try {
        info = await counts.increment(key);
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
