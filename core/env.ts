// Settings read from the environment, each with the default documented in .env.example.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function intFrom(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function boolFrom(name: string, fallback: boolean): boolean {
  const raw = process.env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new Error(`${name} must be true or false, got "${process.env[name]}"`);
}

export function loadEnv() {
  const port = intFrom('PORT', 3000, 0, 65535);
  return {
    databaseUrl: process.env.DATABASE_URL || undefined,
    redisUrl: process.env.REDIS_URL || undefined,
    port,
    host: process.env.HOST || '0.0.0.0',
    publicUrl: (process.env.PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, ''),
    /** whether PUBLIC_URL was set (otherwise links printed at start use the port actually bound) */
    publicUrlConfigured: Boolean(process.env.PUBLIC_URL),
    masterKey: process.env.INTAKE_MASTER_KEY || undefined,
    dataDir: path.resolve(PROJECT_ROOT, process.env.INTAKE_DATA_DIR || '.data'),
    embeddedPgPort: intFrom('INTAKE_EMBEDDED_PG_PORT', 54329, 1, 65535),
    bodyLimitBytes: intFrom('INTAKE_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
    maxBytesInFlight: intFrom('INTAKE_MAX_BYTES_IN_FLIGHT', 128 * 1024 * 1024, 0, 64 * 1024 * 1024 * 1024),
    inboundWebhooksEnabledDefault: boolFrom('INTAKE_INBOUND_WEBHOOKS_ENABLED', true),
    sourceRateLimitPerMinute: intFrom('INTAKE_SOURCE_RATE_LIMIT_PER_MINUTE', 6000, 0, 10_000_000),
    trustedProxies: (process.env.INTAKE_TRUSTED_PROXIES ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    workerConcurrency: intFrom('INTAKE_WORKER_CONCURRENCY', 8, 1, 256),
    configCacheTtlMs: intFrom('INTAKE_CONFIG_CACHE_TTL_MS', 30_000, 0, 3_600_000),
    rejectionRetentionDays: intFrom('INTAKE_REJECTION_RETENTION_DAYS', 7, 1, 3650),
    bodyRetentionDays: intFrom('INTAKE_BODY_RETENTION_DAYS', 30, 1, 3650),
    configCacheMaxEntries: intFrom('INTAKE_CONFIG_CACHE_MAX_ENTRIES', 10_000, 1, 10_000_000),
    jsonataTimeoutMs: intFrom('INTAKE_JSONATA_TIMEOUT_MS', 1000, 10, 60_000),
    /** 0: the default, the cores between 2 and 4 */
    jsonataThreads: intFrom('INTAKE_JSONATA_THREADS', 0, 0, 64),
    jsonataMaxOutputChars: intFrom('INTAKE_JSONATA_MAX_OUTPUT_CHARS', 1024 * 1024, 1024, 64 * 1024 * 1024),
    jsonataHeapMb: intFrom('INTAKE_JSONATA_HEAP_MB', 64, 16, 4096),
    dbPoolSize: intFrom('INTAKE_DB_POOL_SIZE', 20, 1, 1000),
    dbTimeouts: {
      statementMs: intFrom('INTAKE_DB_STATEMENT_TIMEOUT_MS', 30_000, 0, 86_400_000),
      lockMs: intFrom('INTAKE_DB_LOCK_TIMEOUT_MS', 15_000, 0, 86_400_000),
      idleInTransactionMs: intFrom('INTAKE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60_000, 0, 86_400_000),
      connectMs: intFrom('INTAKE_DB_CONNECT_TIMEOUT_MS', 10_000, 0, 600_000),
    },
    redisCommandTimeoutMs: intFrom('INTAKE_REDIS_COMMAND_TIMEOUT_MS', 500, 10, 60_000),
    redisConnectTimeoutMs: intFrom('INTAKE_REDIS_CONNECT_TIMEOUT_MS', 2000, 10, 60_000),
    /** every Redis key Intake writes starts with it, so installations sharing one Redis count apart */
    redisKeyPrefix: process.env.INTAKE_REDIS_KEY_PREFIX || 'intake:',
    rateLimitFailClosed: boolFrom('INTAKE_RATE_LIMIT_FAIL_CLOSED', false),
    dedupeUntimestampedReplays: boolFrom('INTAKE_DEDUPE_UNTIMESTAMPED_REPLAYS', false),
    apiPoolSize: intFrom('INTAKE_API_POOL_SIZE', 10, 1, 1000),
    receiveBatchMax: intFrom('INTAKE_RECEIVE_BATCH_MAX', 64, 1, 1000),
    receiveBatchPipeline: intFrom('INTAKE_RECEIVE_BATCH_PIPELINE', 1, 1, 100),
    sessionIdleMinutes: intFrom('INTAKE_SESSION_IDLE_MINUTES', 60, 1, 7 * 24 * 60),
    sessionMaxHours: intFrom('INTAKE_SESSION_MAX_HOURS', 12, 1, 90 * 24),
    setupTokenHours: intFrom('INTAKE_SETUP_TOKEN_HOURS', 24, 1, 24 * 30),
    signInLimitPerAddress: intFrom('INTAKE_SIGN_IN_LIMIT_PER_ADDRESS', 5, 1, 10_000),
    signInLimitPerIp: intFrom('INTAKE_SIGN_IN_LIMIT_PER_IP', 30, 1, 100_000),
    /** a bearer token /metrics asks for; unset: none */
    metricsToken: process.env.INTAKE_METRICS_TOKEN || null,
    /** a port of its own for /metrics, /healthz and /readyz (0: any free one); unset: /metrics on PORT */
    metricsPort: process.env.INTAKE_METRICS_PORT ? intFrom('INTAKE_METRICS_PORT', 9464, 0, 65535) : null,
    /** after SIGTERM: how long /readyz says 503 before the listener closes (for a load balancer to notice) */
    shutdownDelayMs: intFrom('INTAKE_SHUTDOWN_DELAY_MS', 0, 0, 600_000),
    /** after SIGTERM: the bound on finishing requests and jobs; past it the process exits 1 */
    shutdownTimeoutMs: intFrom('INTAKE_SHUTDOWN_TIMEOUT_MS', 25_000, 1000, 600_000),
    outbound: {
      allowHttp: boolFrom('INTAKE_OUTBOUND_ALLOW_HTTP', false),
      /** parsed by core/outboundAddress.ts parseAllowCidrs */
      allowCidrs: process.env.INTAKE_OUTBOUND_ALLOW_CIDRS ?? '',
      timeoutMs: intFrom('INTAKE_OUTBOUND_TIMEOUT_MS', 15_000, 100, 120_000),
      disableAfterHours: intFrom('INTAKE_OUTBOUND_DISABLE_AFTER_HOURS', 120, 1, 24 * 365),
      sweepIntervalMs: intFrom('INTAKE_OUTBOUND_SWEEP_MS', 250, 10, 60_000),
      eventRetentionDays: intFrom('INTAKE_OUTBOUND_EVENT_RETENTION_DAYS', 30, 0, 3650),
      attemptRetentionDays: intFrom('INTAKE_OUTBOUND_ATTEMPT_RETENTION_DAYS', 30, 0, 3650),
      pruneBatch: intFrom('INTAKE_OUTBOUND_PRUNE_BATCH', 1000, 1, 100_000),
    },
  };
}
export type Env = ReturnType<typeof loadEnv>;
