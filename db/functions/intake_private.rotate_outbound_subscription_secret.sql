-- Adds a new signing secret (sealed by the caller) to a subscription of p_tenant; the live old
-- ones keep signing until now() + p_overlap_seconds (at most 7 days), which it returns. At most
-- the secrets still signing are kept. No permission check: the API's
-- intake.rotate_outbound_subscription_secret() checks it; the CLI runs as the owner.
create or replace function intake_private.rotate_outbound_subscription_secret(p_tenant uuid, p_subscription_id uuid, p_secret bytea, p_overlap_seconds int default 86400)
  returns timestamptz
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_until timestamptz;
begin
  if p_overlap_seconds is null or p_overlap_seconds < 0 or p_overlap_seconds > 7 * 86400 then
    raise exception 'overlapSeconds: must be 0 to 604800 (7 days), got %', p_overlap_seconds using errcode = '22023';
  end if;
  if p_secret is null then
    raise exception 'a new secret is required' using errcode = '22023';
  end if;
  perform 1 from intake.outbound_subscriptions s
   where s.tenant = p_tenant and s.subscription_id = p_subscription_id
     for update;
  if not found then
    raise exception 'outbound subscription % not found', p_subscription_id using errcode = 'P0002';
  end if;
  v_until := now() + make_interval(secs => p_overlap_seconds);
  update intake_private.outbound_subscription_secrets s
     set expires_at = least(coalesce(s.expires_at, 'infinity'), v_until)
   where s.tenant = p_tenant and s.subscription_id = p_subscription_id
     and (s.expires_at is null or s.expires_at > now());
  -- the secrets that stopped signing are not kept
  delete from intake_private.outbound_subscription_secrets s
   where s.tenant = p_tenant and s.subscription_id = p_subscription_id and s.expires_at <= now();
  insert into intake_private.outbound_subscription_secrets (tenant, subscription_id, secret)
  values (p_tenant, p_subscription_id, p_secret);
  update intake.outbound_subscriptions s set updated_at = now()
   where s.tenant = p_tenant and s.subscription_id = p_subscription_id;
  return v_until;
end
$$;
comment on function intake_private.rotate_outbound_subscription_secret(uuid, uuid, bytea, int) is
  'Adds a new signing secret to a subscription of the tenant; the live old ones sign until the returned time (overlap at most 7 days). Checks no permission.';
