-- The browser session lookup, the counterpart of authenticate_api_key: the tenant (from the
-- token's text) and the SHA-256 of the whole token → who is asking and what they may do, plus
-- when the session ends. No row: unknown, revoked, idle too long, past its absolute expiry, or
-- the user is inactive. Security definer so the login role needs no access to
-- intake_private.sessions. last_seen_at (which idle expiry counts from) is written at most once
-- a minute per session, so a busy page does not churn rows.
create or replace function intake_private.authenticate_session(p_tenant uuid, p_token_hash bytea)
  returns table (tenant uuid, tenant_slug text, user_id uuid, email text, session_id uuid, permissions text[],
                 expires_at timestamptz, idle_expires_at timestamptz)
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_session record;
  v_seen timestamptz;
begin
  select s.tenant, t.slug, s.user_id, u.email, s.session_id, s.last_seen_at, s.idle_timeout_seconds, s.expires_at
    into v_session
    from intake_private.sessions s
    join psa.tenants t on t.tenant = s.tenant
    join psa.users u on u.tenant = s.tenant and u.user_id = s.user_id and u.is_active
   where s.tenant = p_tenant and s.token_hash = p_token_hash and s.revoked_at is null
     and s.expires_at > now()
     and s.last_seen_at + make_interval(secs => s.idle_timeout_seconds) > now();
  if not found then
    return;
  end if;
  v_seen := v_session.last_seen_at;
  if v_seen < now() - interval '1 minute' then
    v_seen := now();
    update intake_private.sessions s set last_seen_at = v_seen
     where s.tenant = v_session.tenant and s.session_id = v_session.session_id;
  end if;
  return query
  select v_session.tenant, v_session.slug, v_session.user_id, v_session.email, v_session.session_id,
         intake_private.user_permissions(v_session.tenant, v_session.user_id),
         v_session.expires_at,
         least(v_session.expires_at, v_seen + make_interval(secs => v_session.idle_timeout_seconds));
end
$$;
comment on function intake_private.authenticate_session(uuid, bytea) is
  'Resolves a browser session (tenant + SHA-256 of its token) to its tenant, user, permissions and expiries; no row when unknown, revoked, expired (idle or absolute) or the user is inactive.';
