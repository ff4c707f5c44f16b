-- Secret rotation with an overlap (intake_private.rotate_outbound_subscription_secret): the new
-- secret is made and sealed in Node (api/outbound.ts), which SQL never sees in the clear.
-- Security definer for intake_private's secrets table; needs outbound_webhook:update.
create or replace function intake.rotate_outbound_subscription_secret(p_subscription_id uuid, p_secret bytea, p_overlap_seconds int default 86400)
  returns timestamptz
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  return intake_private.rotate_outbound_subscription_secret(
    intake_private.require_tenant_permission('outbound_webhook', 'update'), p_subscription_id, p_secret, p_overlap_seconds);
end
$$;
comment on function intake.rotate_outbound_subscription_secret(uuid, bytea, int) is
  'Adds a new signing secret; the live old ones keep signing for the overlap (default 24 h, at most 7 days; needs outbound_webhook:update).';
grant execute on function intake.rotate_outbound_subscription_secret(uuid, bytea, int) to intake_user;
