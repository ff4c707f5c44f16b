// Composes the running parts: `npm start` runs all of them in one process; `intake receiver`
// and `intake worker` run one each, for scaling out against one database.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Runner } from 'graphile-worker';
import { mountRest } from '../api/rest/index.ts';
import { mountGraphql } from '../graphql/index.ts';
import { ConfigCache } from '../receiver/configCache.ts';
import { createReceiver } from '../receiver/app.ts';
import { createRateLimiter } from '../receiver/rateLimit.ts';
import { ByteBudget } from '../receiver/readBody.ts';
import { createRecorder } from '../receiver/recorder.ts';
import { createRejectionLog } from '../receiver/rejections.ts';
import { startWorker } from '../worker/runner.ts';
import { createPool, openDatabase, type Database } from './database.ts';
import type { Env } from './env.ts';
import { errorMessage, log } from './log.ts';
import { migrateDatabase } from './migrate.ts';
import { createRateLimitBackend } from './redis.ts';
import { blockListFrom } from './webhookConfig.ts';

export interface RuntimeParts {
  receiver: boolean;
  worker: boolean;
  migrate: boolean;
}

export interface Runtime {
  url: string | null;
  database: Database;
  stop(): Promise<void>;
}

export async function startRuntime(env: Env, parts: RuntimeParts): Promise<Runtime> {
  const database = await openDatabase(env);
  const stops: (() => Promise<unknown>)[] = [];
  try {
    if (parts.migrate) await migrateDatabase(database.connectionString);
    const pool = createPool(database.connectionString, env.dbPoolSize);
    stops.push(() => pool.end());

    let runner: Runner | null = null;
    if (parts.worker) {
      runner = await startWorker(pool, { concurrency: env.workerConcurrency, jsonataTimeoutMs: env.jsonataTimeoutMs });
      stops.unshift(() => runner!.stop());
    }

    let url: string | null = null;
    if (parts.receiver) {
      const cache = new ConfigCache(pool, database.connectionString, database.masterKey, env.configCacheTtlMs, env.configCacheMaxEntries);
      await cache.start();
      stops.unshift(() => cache.close());
      const rateLimits = createRateLimitBackend(env.redisUrl);
      stops.unshift(() => rateLimits.close());

      const app = express();
      app.disable('x-powered-by');
      app.get('/healthz', async (_req, res) => {
        try {
          await pool.query('select 1');
          res.json({ status: 'ok', worker: runner !== null });
        } catch (error) {
          res.status(503).json({ status: 'unavailable', error: errorMessage(error) });
        }
      });
      const rejections = createRejectionLog(pool, { maxQueued: 10_000, flushIntervalMs: 250, retentionDays: env.rejectionRetentionDays });
      stops.push(() => rejections.close());
      const inbound = createReceiver({
        recorder: createRecorder(pool, { maxBatch: env.receiveBatchMax, maxUncommitted: env.receiveBatchPipeline }),
        rejections,
        cache,
        rateLimiter: createRateLimiter(rateLimits.store),
        sourceRateLimitPerMinute: env.sourceRateLimitPerMinute,
        bodyLimitBytes: env.bodyLimitBytes,
        bytesInFlight: new ByteBudget(env.maxBytesInFlight),
        inboundWebhooksEnabledDefault: env.inboundWebhooksEnabledDefault,
        trustedProxies: env.trustedProxies.length ? blockListFrom(env.trustedProxies) : null,
        publicUrl: env.publicUrl,
        jsonataTimeoutMs: env.jsonataTimeoutMs,
      });
      // The management API: GraphQL at /graphql, GraphiQL at /graphiql, as the API key's user
      // under row-level security (its own pool, so management traffic never starves receiving).
      const apiPool = createPool(database.connectionString, env.apiPoolSize);
      stops.push(() => apiPool.end());
      const graphql = await mountGraphql(app, { pool: apiPool, masterKey: database.masterKey, publicUrl: env.publicUrl });
      stops.unshift(() => graphql.release());
      // REST at /api/v1 (same API key, role, settings and SQL functions as GraphQL), its
      // OpenAPI document at /api/v1/openapi.{json,yaml} and the docs page at /api/docs.
      mountRest(app, { pool: apiPool, masterKey: database.masterKey, publicUrl: env.publicUrl });
      app.use((_req, res) => res.status(404).json({ error: 'not found' }));

      // The inbound path is served before Express sees the request (receiver/app.ts says why).
      const server = http.createServer((req, res) => {
        if (!inbound(req, res)) app(req, res);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(env.port, env.host, () => resolve());
      });
      const port = (server.address() as AddressInfo).port;
      url = `http://${env.host === '0.0.0.0' ? 'localhost' : env.host}:${port}`;
      stops.unshift(
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
          }),
      );
    }

    let stopping: Promise<void> | null = null;
    return {
      url,
      database,
      stop() {
        stopping ??= (async () => {
          for (const stop of stops) await stop().catch((error) => log.warn('shutdown step failed', { error: errorMessage(error) }));
          await database.close();
        })();
        return stopping;
      },
    };
  } catch (error) {
    for (const stop of stops) await stop().catch(() => {});
    await database.close();
    throw error;
  }
}
