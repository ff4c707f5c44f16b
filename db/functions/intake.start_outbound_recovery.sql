-- Recover: re-send every failed delivery of a subscription created since a time, as a job with
-- progress (intake_private.start_outbound_recovery). Security definer for the queue; needs
-- outbound_webhook:replay.
create or replace function intake.start_outbound_recovery(subscription_id uuid, since timestamptz)
  returns intake.outbound_recoveries
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  return intake_private.start_outbound_recovery(
    intake_private.require_tenant_permission('outbound_webhook', 'replay'),
    start_outbound_recovery.subscription_id, start_outbound_recovery.since, intake.current_user_id());
end
$$;
comment on function intake.start_outbound_recovery(uuid, timestamptz) is
  'Starts re-sending every failed delivery of a subscription created since a time, as a job with progress (needs outbound_webhook:replay).';
grant execute on function intake.start_outbound_recovery(uuid, timestamptz) to intake_user;
