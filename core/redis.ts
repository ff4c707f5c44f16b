// The rate limiter's store: Redis when REDIS_URL is set (shared by every receiver process),
// otherwise memory (one process only), said once in the log.
//
// Redis must never hold a request up: every command has a timeout (INTAKE_REDIS_COMMAND_TIMEOUT_MS,
// also while disconnected: the offline queue is bounded by it) and so does connecting. When Redis
// fails or does not answer, the limit fails open (the request is let through) with one warning
// per outage, until a command succeeds again; with INTAKE_RATE_LIMIT_FAIL_CLOSED it fails closed
// instead: the request is answered as over its limit (429, Retry-After).
import { Redis } from 'ioredis';
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { errorMessage, log } from './log.ts';
import { countRedisError } from './metrics.ts';

export interface RateLimitBackend {
  store: Store | undefined;
  close(): Promise<void>;
}

export interface RedisSettings {
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  /** true: refuse (as over the limit) while Redis cannot count; false: let requests through */
  failClosed: boolean;
  /** the start of every key (INTAKE_REDIS_KEY_PREFIX): installations sharing one Redis count apart */
  keyPrefix: string;
}

export const DEFAULT_REDIS_SETTINGS: RedisSettings = { commandTimeoutMs: 500, connectTimeoutMs: 2000, failClosed: false, keyPrefix: 'intake:' };

/** When failing closed: how long a refused sender is told to wait. */
const FAIL_CLOSED_RETRY_MS = 5000;

export function createRateLimitBackend(redisUrl: string | undefined, settings: RedisSettings = DEFAULT_REDIS_SETTINGS): RateLimitBackend {
  if (!redisUrl) {
    log.warn('REDIS_URL is not set: rate limits are kept in memory and are per process');
    return { store: undefined, close: async () => {} };
  }
  const client = new Redis(redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    lazyConnect: false,
    commandTimeout: settings.commandTimeoutMs,
    connectTimeout: settings.connectTimeoutMs,
    // reconnect attempts back off to at most 2 s, for ever
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  const outage = oneWarningPerOutage(settings.failClosed);
  client.on('error', (error) => outage.failed(error)); // ioredis reconnects by itself
  const redisStore = new RedisStore({
    prefix: `${settings.keyPrefix}rl:`,
    sendCommand: (command: string, ...args: string[]) => client.call(command, ...args) as Promise<RedisReply>,
  });
  return {
    store: guarded(redisStore, settings.failClosed, outage),
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}

function oneWarningPerOutage(failClosed: boolean) {
  let down = false;
  return {
    failed(error: unknown) {
      countRedisError();
      if (down) return;
      down = true;
      log.warn(`redis failed: rate limits fail ${failClosed ? 'closed (requests answered 429)' : 'open (requests let through)'} until it answers again`,
        { error: errorMessage(error) });
    },
    ok() {
      if (!down) return;
      down = false;
      log.info('redis answers again: rate limits are counted');
    },
  };
}

/** The store with its failures turned into the configured verdict, so no caller waits or throws. */
function guarded(store: Store, failClosed: boolean, outage: ReturnType<typeof oneWarningPerOutage>): Store {
  const verdict = (): ClientRateLimitInfo => failClosed
    ? { totalHits: Number.MAX_SAFE_INTEGER, resetTime: new Date(Date.now() + FAIL_CLOSED_RETRY_MS) }
    : { totalHits: 0, resetTime: undefined };
  return {
    prefix: store.prefix,
    localKeys: false,
    init: (options: Options) => {
      void Promise.resolve(store.init?.(options)).catch((error: unknown) => outage.failed(error));
    },
    async increment(key) {
      try {
        const info = await store.increment(key);
        outage.ok();
        return info;
      } catch (error) {
        outage.failed(error);
        return verdict();
      }
    },
    async decrement(key) {
      await Promise.resolve(store.decrement(key)).catch((error: unknown) => outage.failed(error));
    },
    async resetKey(key) {
      await Promise.resolve(store.resetKey(key)).catch((error: unknown) => outage.failed(error));
    },
  };
}
