-- Puts a new secret in place and keeps the live old ones valid for a grace period, so a sender
-- can be switched over without lost deliveries (the receiver accepts any live secret). As with
-- intake.create_inbound_webhook(), Node generates and seals the secret; security definer for
-- the intake_private write, so it checks the permission and the tenant itself. Returns when
-- the old secrets stop verifying.
create or replace function intake.rotate_inbound_webhook_secret(
  p_inbound_webhook_id uuid,
  p_secret_kind text,
  p_secret bytea,
  p_grace_seconds int default 86400
) returns timestamptz
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_tenant uuid := intake_private.require_tenant_permission('inbound_webhook', 'update');
  v_auth_type text;
  v_until timestamptz;
begin
  if p_grace_seconds is null or p_grace_seconds < 0 or p_grace_seconds > 30 * 86400 then
    raise exception 'grace period must be between 0 and 2592000 seconds (30 days), got %', p_grace_seconds using errcode = '22023';
  end if;
  select w.auth_type into v_auth_type
    from intake.inbound_webhooks w
   where w.tenant = v_tenant and w.inbound_webhook_id = p_inbound_webhook_id
     for update;
  if not found then
    raise exception 'inbound webhook % not found', p_inbound_webhook_id using errcode = 'P0002';
  end if;
  if v_auth_type = 'ip_allowlist' then
    raise exception 'an ip_allowlist webhook has no secret to rotate' using errcode = '22023';
  end if;
  if p_secret is null or p_secret_kind is distinct from (case when v_auth_type = 'hmac_sha256' then 'aes256gcm' else 'sha256' end) then
    raise exception 'a % webhook''s secret is not stored as %', v_auth_type, p_secret_kind using errcode = '22023';
  end if;

  v_until := now() + make_interval(secs => p_grace_seconds);
  update intake_private.inbound_webhook_secrets s
     set expires_at = least(coalesce(s.expires_at, 'infinity'), v_until)
   where s.tenant = v_tenant and s.inbound_webhook_id = p_inbound_webhook_id
     and (s.expires_at is null or s.expires_at > now());
  insert into intake_private.inbound_webhook_secrets (tenant, inbound_webhook_id, kind, secret)
  values (v_tenant, p_inbound_webhook_id, p_secret_kind, p_secret);
  return v_until;
end
$$;
comment on function intake.rotate_inbound_webhook_secret(uuid, text, bytea, int) is
  'Adds a new webhook secret and lets the live old ones expire after a grace period (default 24 h; needs inbound_webhook:update).';
grant execute on function intake.rotate_inbound_webhook_secret(uuid, text, bytea, int) to intake_user;
