-- The management APIs' key lookup: the tenant (from the key's text) and the SHA-256 of the whole
-- key → who is asking and what they may do. No row: unknown, revoked, or the user is inactive.
-- Security definer so the login role needs no access to psa.api_keys; it never sees a key.
-- last_used_at is written at most once a minute per key, so busy keys do not churn rows.
create or replace function intake_private.authenticate_api_key(p_tenant uuid, p_key_hash bytea)
  returns table (tenant uuid, tenant_slug text, user_id uuid, email text, api_key_id uuid, permissions text[])
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_key record;
begin
  select k.tenant, t.slug, k.user_id, u.email, k.api_key_id, k.last_used_at into v_key
    from psa.api_keys k
    join psa.tenants t on t.tenant = k.tenant
    join psa.users u on u.tenant = k.tenant and u.user_id = k.user_id and u.is_active
   where k.tenant = p_tenant and k.key_hash = p_key_hash and k.revoked_at is null;
  if not found then
    return;
  end if;
  if v_key.last_used_at is null or v_key.last_used_at < now() - interval '1 minute' then
    update psa.api_keys k set last_used_at = now() where k.tenant = v_key.tenant and k.api_key_id = v_key.api_key_id;
  end if;
  return query
  select v_key.tenant, v_key.slug, v_key.user_id, v_key.email, v_key.api_key_id,
         intake_private.user_permissions(v_key.tenant, v_key.user_id);
end
$$;
comment on function intake_private.authenticate_api_key(uuid, bytea) is
  'Resolves an API key (tenant + SHA-256 digest) to its tenant, user and permissions; no row when unknown, revoked or the user is inactive.';
