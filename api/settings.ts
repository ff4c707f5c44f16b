// The claims → database settings bridge, the same for GraphQL (PostGraphile pgSettings) and REST:
// every management request runs as intake_user, a non-owner role, with the tenant and user as
// transaction-local settings. Row-level security and the SQL functions read them
// (intake.current_tenant(), intake.current_user_id(), intake.has_permission()).
import type pg from 'pg';
import { withSettings } from '../core/database.ts';
import type { Claims } from './auth.ts';

export const API_ROLE = 'intake_user';
/** no management request holds a connection longer than this (ms) */
export const API_STATEMENT_TIMEOUT_MS = 15_000;

export function pgSettingsFor(claims: Claims | undefined): Record<string, string> {
  // Without claims (never reached behind requireAuth) the role still applies and no tenant is
  // set, so every policy fails closed.
  return {
    role: API_ROLE,
    statement_timeout: String(API_STATEMENT_TIMEOUT_MS),
    'intake.tenant': claims?.tenant ?? '',
    'intake.user_id': claims?.userId ?? '',
    // who saves a webhook configuration version (intake_private.tg_record_config_version)
    'intake.actor': claims?.email ?? '',
  };
}

/**
 * Runs `fn` in one transaction as intake_user with the claims' settings; commits when it
 * returns, rolls back when it throws. For REST handlers, the CLI and tests.
 */
export function withClaims<T>(pool: pg.Pool, claims: Claims, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withSettings(pool, pgSettingsFor(claims), fn);
}
