// The rate limiter's store: Redis when REDIS_URL is set (shared by every receiver process),
// otherwise memory (one process only), said once in the log.
import { Redis } from 'ioredis';
import type { Store } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { errorMessage, log } from './log.ts';

export interface RateLimitBackend {
  store: Store | undefined;
  close(): Promise<void>;
}

export function createRateLimitBackend(redisUrl: string | undefined): RateLimitBackend {
  if (!redisUrl) {
    log.warn('REDIS_URL is not set: rate limits are kept in memory and are per process');
    return { store: undefined, close: async () => {} };
  }
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
  let lastError = '';
  client.on('error', (error) => {
    // ioredis reconnects by itself; log each distinct failure once rather than per retry.
    const message = errorMessage(error);
    if (message !== lastError) log.warn('redis error (rate limits fail open until it is back)', { error: message });
    lastError = message;
  });
  client.on('ready', () => (lastError = ''));
  const store = new RedisStore({
    prefix: 'intake:rl:',
    sendCommand: (command: string, ...args: string[]) => client.call(command, ...args) as Promise<RedisReply>,
  });
  return {
    store,
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}
