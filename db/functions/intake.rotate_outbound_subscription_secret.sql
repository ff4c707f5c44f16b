-- Puts a new signing secret in place and keeps the live old ones signing for an overlap (default
-- 24 h, at most 7 days), so a receiver can switch over without a failed verification: every
-- live secret signs each attempt (one v1,… per secret in webhook-signature). Node generates and
-- seals the secret; security definer for the intake_private write. Returns when the old
-- secrets stop signing.
create or replace function intake.rotate_outbound_subscription_secret(p_subscription_id uuid, p_secret bytea, p_overlap_seconds int default 86400)
  returns timestamptz
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_tenant uuid := intake_private.require_tenant_permission('outbound_webhook', 'update');
  v_until timestamptz;
begin
  if p_overlap_seconds is null or p_overlap_seconds < 0 or p_overlap_seconds > 7 * 86400 then
    raise exception 'overlapSeconds: must be 0 to 604800 (7 days), got %', p_overlap_seconds using errcode = '22023';
  end if;
  if p_secret is null then
    raise exception 'a new secret is required' using errcode = '22023';
  end if;
  perform 1 from intake.outbound_subscriptions s
   where s.tenant = v_tenant and s.subscription_id = p_subscription_id
     for update;
  if not found then
    raise exception 'outbound subscription % not found', p_subscription_id using errcode = 'P0002';
  end if;
  v_until := now() + make_interval(secs => p_overlap_seconds);
  update intake_private.outbound_subscription_secrets s
     set expires_at = least(coalesce(s.expires_at, 'infinity'), v_until)
   where s.tenant = v_tenant and s.subscription_id = p_subscription_id
     and (s.expires_at is null or s.expires_at > now());
  -- at most 10 secrets are kept per subscription: the ones that stopped signing longest ago go
  delete from intake_private.outbound_subscription_secrets s
   where s.tenant = v_tenant and s.subscription_id = p_subscription_id and s.expires_at <= now();
  insert into intake_private.outbound_subscription_secrets (tenant, subscription_id, secret)
  values (v_tenant, p_subscription_id, p_secret);
  update intake.outbound_subscriptions s set updated_at = now()
   where s.tenant = v_tenant and s.subscription_id = p_subscription_id;
  return v_until;
end
$$;
comment on function intake.rotate_outbound_subscription_secret(uuid, bytea, int) is
  'Adds a new signing secret; the live old ones keep signing for the overlap (default 24 h, at most 7 days; needs outbound_webhook:update).';
grant execute on function intake.rotate_outbound_subscription_secret(uuid, bytea, int) to intake_user;
