// Composes the running parts: `npm start` runs all of them in one process; `intake receiver`
// and `intake worker` run one each, for scaling out against one database.
//
// Stopping (SIGTERM, SIGINT: cli/intake.ts calls stop()), in this order: /readyz answers 503 at
// once; after INTAKE_SHUTDOWN_DELAY_MS (time for a load balancer to notice) the listener closes,
// so no new connection is accepted; every request already being handled is answered (recorded,
// or 503 if the database cannot take it) with `Connection: close`; meanwhile the worker stops
// taking jobs and lets its running ones finish (graphile-worker releases any it cannot); then the
// caches, the rejection log (flushed), Redis and the pools close. cli/intake.ts exits 0 when that
// is done, 1 if it took longer than INTAKE_SHUTDOWN_TIMEOUT_MS.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type pg from 'pg';
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
import { startWorker, type Worker } from '../worker/runner.ts';
import { mountWeb } from '../web/serve.ts';
import { createPool, openDatabase, type Database } from '../core/database.ts';
import type { Env } from '../core/env.ts';
import { configureExpressionPool } from '../core/jsonata.ts';
import { errorMessage, log } from '../core/log.ts';
import { watchBacklog, watchPool, watchReadiness } from '../core/metrics.ts';
import { migrateDatabase, migrationsCurrent } from '../core/migrate.ts';
import { createRateLimitBackend } from '../core/redis.ts';
import { blockListFrom } from '../core/webhookConfig.ts';
import { createRequestTracker, opsHandler, type Readiness } from './http.ts';
import { outboundPolicyOf } from '../core/outboundSubscriptions.ts';

export interface RuntimeParts {
  receiver: boolean;
  worker: boolean;
  migrate: boolean;
}

export interface Runtime {
  /** the main port (receiver, APIs, UI); null in a worker-only process */
  url: string | null;
  /** the port of its own for /metrics, /healthz and /readyz (INTAKE_METRICS_PORT), if any */
  opsUrl: string | null;
  database: Database;
  /** what /readyz answers */
  readiness(): Promise<Readiness>;
  /** the graceful stop described at the top of this file; idempotent */
  stop(): Promise<void>;
}

function listen(server: http.Server, port: number, host: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const bound = (server.address() as AddressInfo).port;
      resolve(`http://${host === '0.0.0.0' ? 'localhost' : host}:${bound}`);
    });
  });
}

/** Stops accepting connections and resolves once the server has none left. */
function closeServer(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

export async function startRuntime(env: Env, parts: RuntimeParts): Promise<Runtime> {
  const database = await openDatabase(env);
  const outboundPolicy = outboundPolicyOf(env.outbound);
  // Run in order by stop(), after the listeners have closed and requests and jobs have finished.
  const stops: (() => Promise<unknown>)[] = [];
  const servers: http.Server[] = [];
  /** closed last, once nothing can use them */
  const pools: pg.Pool[] = [];
  const requests = createRequestTracker();
  let shuttingDown = false;
  let worker: Worker | null = null;
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
    pools.push(pool);
    const unwatch = [watchPool('main', pool), watchBacklog(pool)];
    stops.push(async () => unwatch.forEach((fn) => fn()));

    if (parts.worker) {
      worker = await startWorker(pool, {
        concurrency: env.workerConcurrency,
        jsonataTimeoutMs: env.jsonataTimeoutMs,
        rejectionRetentionDays: env.rejectionRetentionDays,
        bodyRetentionDays: env.bodyRetentionDays,
        outbound: { ...env.outbound, ...outboundPolicy, masterKey: database.masterKey },
      });
    }

    let migrationsKnownCurrent = false;
    const readiness = async (): Promise<Readiness> => {
      if (shuttingDown) return { ready: false, status: 'shutting_down', checks: { shutdown: 'in progress' } };
      const checks: Record<string, string> = {};
      try {
        await pool.query({ text: 'select 1', query_timeout: 2000 } as pg.QueryConfig);
        checks.database = 'ok';
        // Once current, always current: a database never goes back a migration.
        migrationsKnownCurrent ||= await migrationsCurrent(pool);
        checks.migrations = migrationsKnownCurrent ? 'ok' : 'pending: run intake migrate';
      } catch (error) {
        checks.database = `unreachable: ${errorMessage(error)}`;
      }
      if (parts.worker) checks.worker = worker?.running() ? 'running' : 'not running (waiting for the database)';
      const ready = checks.database === 'ok' && checks.migrations === 'ok' && (!parts.worker || checks.worker === 'running');
      return { ready, status: ready ? 'ready' : 'not_ready', checks };
    };
    const ops = opsHandler({ readiness, metricsToken: env.metricsToken, serveMetrics: env.metricsPort === null });

    let url: string | null = null;
    if (parts.receiver) {
      const cache = new ConfigCache(pool, database.connectionString, database.masterKey, env.configCacheTtlMs, env.configCacheMaxEntries);
      await cache.start();
      stops.unshift(() => cache.close());
      const rateLimits = createRateLimitBackend(env.redisUrl, {
        commandTimeoutMs: env.redisCommandTimeoutMs,
        connectTimeoutMs: env.redisConnectTimeoutMs,
        failClosed: env.rateLimitFailClosed,
        keyPrefix: env.redisKeyPrefix,
      });
      stops.unshift(() => rateLimits.close());

      const app = express();
      app.disable('x-powered-by');
      const rateLimiter = createRateLimiter(rateLimits.store);
      const trustedProxies = env.trustedProxies.length ? blockListFrom(env.trustedProxies) : null;
      const rejections = createRejectionLog(pool, { maxQueued: 10_000, flushIntervalMs: 250 });
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
        dedupeUntimestampedReplays: env.dedupeUntimestampedReplays,
      });
      // The management API: GraphQL at /graphql, GraphiQL at /graphiql, as the API key's user
      // under row-level security (its own pool, so management traffic never starves receiving).
      const apiPool = createPool(database.connectionString, env.apiPoolSize, env.dbTimeouts);
      pools.push(apiPool);
      const unwatchApi = watchPool('api', apiPool);
      stops.push(async () => unwatchApi());
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
        inboundWebhooksEnabledDefault: env.inboundWebhooksEnabledDefault, outbound: outboundPolicy,
      });
      stops.unshift(() => graphql.release());
      // REST at /api/v1 (same API key, role, settings and SQL functions as GraphQL), its
      // OpenAPI document at /api/v1/openapi.{json,yaml} and the docs page at /api/docs.
      mountRest(app, { pool: apiPool, masterKey: database.masterKey, publicUrl: env.publicUrl, sessions, jsonataTimeoutMs: env.jsonataTimeoutMs, outbound: outboundPolicy });
      // The web UI (web/dist) at /settings/webhooks, /setup and /sign-in; `/` goes there.
      mountWeb(app);
      app.use((_req, res) => res.status(404).json({ error: 'not found' }));

      // The inbound path is served before Express sees the request (receiver/app.ts says why).
      const server = http.createServer(requests.listener((req, res) => {
        if (!inbound(req, res) && !ops(req, res)) app(req, res);
      }));
      servers.push(server);
      url = await listen(server, env.port, env.host);
    }

    let opsUrl: string | null = null;
    if (env.metricsPort !== null) {
      const metricsOps = opsHandler({ readiness, metricsToken: env.metricsToken, serveMetrics: true });
      const server = http.createServer(requests.listener((req, res) => {
        if (!metricsOps(req, res)) {
          res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ error: 'not found: this port serves /metrics, /healthz and /readyz' }));
        }
      }));
      servers.push(server);
      opsUrl = await listen(server, env.metricsPort, env.host);
    }
    const unwatchReadiness = watchReadiness(readiness);
    stops.push(async () => unwatchReadiness());

    let stopping: Promise<void> | null = null;
    return {
      url,
      opsUrl,
      database,
      readiness,
      stop() {
        stopping ??= (async () => {
          const step = (what: string) => (error: unknown) => log.warn(`shutdown: ${what} failed`, { error: errorMessage(error) });
          shuttingDown = true;
          requests.drain(); // clients still connected are told to reconnect (elsewhere)
          if (env.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, env.shutdownDelayMs));
          const budget = Math.max(500, env.shutdownTimeoutMs - env.shutdownDelayMs - 2000);
          await Promise.all([
            (async () => {
              const closed = Promise.all(servers.map(closeServer));
              if (!(await requests.idle(budget))) log.warn('shutdown: requests still in flight at the time limit; closing their connections');
              for (const server of servers) server.closeAllConnections();
              await closed;
            })().catch(step('closing the listeners')),
            worker?.stop().catch(step('stopping the worker')),
          ]);
          for (const stop of stops) await stop().catch(step('a step'));
          await Promise.all(pools.map((p) => p.end().catch(step('closing a pool'))));
          await database.close();
        })();
        return stopping;
      },
    };
  } catch (error) {
    for (const server of servers) server.close();
    await worker?.stop().catch(() => {});
    for (const stop of stops) await stop().catch(() => {});
    await Promise.all(pools.map((p) => p.end().catch(() => {})));
    await database.close();
    throw error;
  }
}
