// Composes the running parts: `npm start` runs all of them in one process; `intake receiver`
// and `intake worker` run one each, for scaling out against one database.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Runner } from 'graphile-worker';
import { csrfKeyFrom, type SessionSettings } from '../api/auth.ts';
import { mountRest } from '../api/rest/index.ts';
import { sessionRoutes } from '../api/session.ts';
import { mountGraphql } from '../graphql/index.ts';
import { ConfigCache } from '../receiver/configCache.ts';
import { createReceiver } from '../receiver/app.ts';
import { createRateLimiter } from '../receiver/rateLimit.ts';
import { ByteBudget } from '../receiver/readBody.ts';
import { createRecorder } from '../receiver/recorder.ts';
import { createRejectionLog } from '../receiver/rejections.ts';
import { startWorker } from '../worker/runner.ts';
import { mountWeb } from '../web/serve.ts';
import { createPool, openDatabase, type Database } from '../core/database.ts';
import type { Env } from '../core/env.ts';
import { configureExpressionPool } from '../core/jsonata.ts';
import { errorMessage, log } from '../core/log.ts';
import { migrateDatabase } from '../core/migrate.ts';
import { createRateLimitBackend } from '../core/redis.ts';
import { blockListFrom } from '../core/webhookConfig.ts';

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
  configureExpressionPool({
    ...(env.jsonataThreads > 0 ? { threads: env.jsonataThreads } : {}),
    maxOutputChars: env.jsonataMaxOutputChars,
    heapMb: env.jsonataHeapMb,
  });
  // The pool is the process's (receiver and worker share it); its idle threads do not keep the
  // process up, so stopping a runtime leaves it be.
  try {
    if (parts.migrate) await migrateDatabase(database.connectionString);
    const pool = createPool(database.connectionString, env.dbPoolSize, env.dbTimeouts);
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
      const rateLimits = createRateLimitBackend(env.redisUrl, {
        commandTimeoutMs: env.redisCommandTimeoutMs,
        connectTimeoutMs: env.redisConnectTimeoutMs,
        failClosed: env.rateLimitFailClosed,
      });
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
      const rateLimiter = createRateLimiter(rateLimits.store);
      const trustedProxies = env.trustedProxies.length ? blockListFrom(env.trustedProxies) : null;
      const rejections = createRejectionLog(pool, { maxQueued: 10_000, flushIntervalMs: 250, retentionDays: env.rejectionRetentionDays });
      stops.push(() => rejections.close());
      const inbound = createReceiver({
        recorder: createRecorder(pool, { maxBatch: env.receiveBatchMax, maxUncommitted: env.receiveBatchPipeline }),
        rejections,
        cache,
        rateLimiter,
        sourceRateLimitPerMinute: env.sourceRateLimitPerMinute,
        bodyLimitBytes: env.bodyLimitBytes,
        bytesInFlight: new ByteBudget(env.maxBytesInFlight),
        inboundWebhooksEnabledDefault: env.inboundWebhooksEnabledDefault,
        trustedProxies,
        publicUrl: env.publicUrl,
        jsonataTimeoutMs: env.jsonataTimeoutMs,
      });
      // The management API: GraphQL at /graphql, GraphiQL at /graphiql, as the API key's user
      // under row-level security (its own pool, so management traffic never starves receiving).
      const apiPool = createPool(database.connectionString, env.apiPoolSize, env.dbTimeouts);
      stops.push(() => apiPool.end());
      // Signing in (api/session.ts): /auth/*, a session cookie that GraphQL and REST accept as
      // well as an API key. Sign-in attempts are counted in the receiver's rate-limit store.
      const sessions: SessionSettings = { csrfKey: csrfKeyFrom(database.masterKey), publicUrl: env.publicUrl, trustedProxies };
      app.use(
        sessionRoutes({
          pool: apiPool,
          settings: sessions,
          lifetime: { idleMinutes: env.sessionIdleMinutes, maxHours: env.sessionMaxHours },
          rateLimiter,
          limitPerAddress: env.signInLimitPerAddress,
          limitPerIp: env.signInLimitPerIp,
          trustedProxies,
          inboundWebhooksEnabledDefault: env.inboundWebhooksEnabledDefault,
        }),
      );
      const graphql = await mountGraphql(app, {
        pool: apiPool, masterKey: database.masterKey, publicUrl: env.publicUrl, sessions, jsonataTimeoutMs: env.jsonataTimeoutMs,
        inboundWebhooksEnabledDefault: env.inboundWebhooksEnabledDefault,
      });
      stops.unshift(() => graphql.release());
      // REST at /api/v1 (same API key, role, settings and SQL functions as GraphQL), its
      // OpenAPI document at /api/v1/openapi.{json,yaml} and the docs page at /api/docs.
      mountRest(app, { pool: apiPool, masterKey: database.masterKey, publicUrl: env.publicUrl, sessions, jsonataTimeoutMs: env.jsonataTimeoutMs });
      // The web UI (web/dist) at /settings/webhooks, /setup and /sign-in; `/` goes there.
      mountWeb(app);
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
