// The receiver's view of webhook configs, cached per (tenant slug, webhook slug). Entries are
// dropped when Postgres says a tenant's config changed (NOTIFY intake_config, sent by triggers
// on webhooks, secrets and tenants) and expire after a TTL in any case, so a missed
// notification (a dropped LISTEN connection) costs at most one TTL of staleness. While the
// LISTEN connection is down, nothing is cached.
//
// The cache holds at most `maxEntries` URLs, least recently used first out: every slug pair a
// stranger tries is an entry (an unknown tenant's for 5 s), so without a bound it grew with
// every guess. (A Map in use order is all an LRU needs here; no dependency for it.)
import pg from 'pg';
import { aesGcmBox, secretContext, type SecretBox } from '../core/crypto.ts';
import { errorMessage, log } from '../core/log.ts';
import { authConfigSchema, defaultIdempotencySource, idempotencySourceSchema, type AuthConfig, type IdempotencySource } from '../core/webhookConfig.ts';
import type { ResolvedSecret } from './auth/types.ts';

export interface WebhookConfig {
  id: string;
  slug: string;
  isActive: boolean;
  auth: AuthConfig;
  idempotency: IdempotencySource | null;
  rateLimitPerMinute: number;
  configVersion: number;
  secrets: ResolvedSecret[];
  /** when the first of the live secrets expires (a rotation's grace period ends), in ms; null: none does */
  secretsExpireAt: number | null;
}

export interface RouteConfig {
  tenant: string;
  /** the tenant's override of inbound_webhooks_enabled; null follows the environment default */
  tenantEnabled: boolean | null;
  /** null: no webhook with that slug in this tenant */
  webhook: WebhookConfig | null;
}

interface Entry {
  value: Promise<RouteConfig | null>;
  tenant: string | null;
  expiresAt: number;
}

interface SecretRow {
  kind: 'aes256gcm' | 'sha256';
  secret: string;
  inbound_webhook_id: string;
  expires_at: string | null;
}

const UNKNOWN_TENANT_TTL_MS = 5000;

export class ConfigCache {
  private readonly entries = new Map<string, Entry>();
  private readonly box: SecretBox;
  private listener: pg.Client | null = null;
  private listening = false;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;

  private readonly pool: pg.Pool;
  private readonly connectionString: string;
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(pool: pg.Pool, connectionString: string, masterKey: Buffer, ttlMs: number, maxEntries = 10_000) {
    this.pool = pool;
    this.connectionString = connectionString;
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
    this.box = aesGcmBox(masterKey);
  }

  /** URLs cached now (at most maxEntries). */
  get size(): number {
    return this.entries.size;
  }

  async start(): Promise<void> {
    await this.listen();
  }

  private async listen(): Promise<void> {
    // keepalive: a LISTEN connection only ever waits, so a peer that vanished (a cut network, a
    // failed-over server) is found out only by TCP keepalive; then it is lost and reconnected.
    const client = new pg.Client({
      connectionString: this.connectionString, keepAlive: true, keepAliveInitialDelayMillis: 10_000, connectionTimeoutMillis: 10_000,
    });
    client.on('notification', (message) => {
      if (message.payload) this.invalidateTenant(message.payload);
    });
    const lost = (error?: Error) => {
      if (this.listener !== client) return;
      this.listener = null;
      this.listening = false;
      this.entries.clear();
      if (this.closed) return;
      log.warn('config cache: LISTEN connection lost; caching paused until it is back', { error: error?.message });
      this.reconnectTimer = setTimeout(() => this.listen().catch(() => {}), 1000);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    this.listener = client;
    try {
      await client.connect();
      await client.query('listen intake_config');
      this.listening = true;
    } catch (error) {
      log.warn('config cache: could not LISTEN', { error: errorMessage(error) });
      lost();
      client.end().catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.listener;
    this.listener = null;
    this.listening = false;
    await client?.end().catch(() => {});
  }

  invalidateTenant(tenant: string): void {
    for (const [key, entry] of this.entries) {
      // entries still loading (tenant not yet known) may have read the old config: drop them too
      if (entry.tenant === tenant || entry.tenant === null) this.entries.delete(key);
    }
  }

  get(tenantSlug: string, webhookSlug: string): Promise<RouteConfig | null> {
    const key = `${tenantSlug}\u0000${webhookSlug}`;
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) {
      // most recently used last
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }

    const value = this.load(tenantSlug, webhookSlug);
    if (this.listening && this.ttlMs > 0) {
      const entry: Entry = { value, tenant: null, expiresAt: now + this.ttlMs };
      this.entries.delete(key);
      this.entries.set(key, entry);
      while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      value.then(
        (config) => {
          entry.tenant = config?.tenant ?? null;
          if (!config) entry.expiresAt = Math.min(entry.expiresAt, Date.now() + UNKNOWN_TENANT_TTL_MS);
          // no notification comes when a rotated-out secret's grace period ends: expire with it
          const secretsExpireAt = config?.webhook?.secretsExpireAt;
          if (secretsExpireAt != null) entry.expiresAt = Math.min(entry.expiresAt, secretsExpireAt);
        },
        () => {
          if (this.entries.get(key) === entry) this.entries.delete(key);
        },
      );
    }
    return value;
  }

  private async load(tenantSlug: string, webhookSlug: string): Promise<RouteConfig | null> {
    const { rows } = await this.pool.query('select * from intake_private.receiver_config($1, $2)', [tenantSlug, webhookSlug]);
    const row = rows[0];
    if (!row) return null;
    if (!row.inbound_webhook_id) return { tenant: row.tenant, tenantEnabled: row.tenant_enabled, webhook: null };
    const auth = authConfigSchema.parse({ ...row.auth_config, auth_type: row.auth_type });
    return {
      tenant: row.tenant,
      tenantEnabled: row.tenant_enabled,
      webhook: {
        id: row.inbound_webhook_id,
        slug: row.webhook_slug,
        isActive: row.is_active,
        auth,
        // the admin's source, else the sender's own delivery id where its format carries one
        idempotency: row.idempotency_source ? idempotencySourceSchema.parse(row.idempotency_source) : defaultIdempotencySource(auth),
        rateLimitPerMinute: row.rate_limit_per_minute,
        configVersion: row.config_version,
        secrets: (row.secrets as SecretRow[]).map((s) => this.resolveSecret(row.tenant, s)),
        secretsExpireAt: (row.secrets as SecretRow[]).reduce<number | null>(
          (first, s) => (s.expires_at === null ? first : Math.min(first ?? Infinity, Date.parse(s.expires_at))),
          null,
        ),
      },
    };
  }

  private resolveSecret(tenant: string, row: SecretRow): ResolvedSecret {
    const bytes = Buffer.from(row.secret, 'base64');
    if (row.kind === 'sha256') return { kind: 'sha256', digest: bytes };
    return { kind: 'plaintext', value: this.box.open(bytes, secretContext(tenant, row.inbound_webhook_id)) };
  }
}
