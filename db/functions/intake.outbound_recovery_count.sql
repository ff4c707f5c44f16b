-- How many deliveries intake.start_outbound_recovery() would re-send: the subscription's failed
-- deliveries created at or after p_since. Runs as the caller (row-level security).
create or replace function intake.outbound_recovery_count(subscription_id uuid, since timestamptz) returns int
  language sql stable
  set search_path = pg_catalog
  as $$
  select count(*)::int from intake.outbound_deliveries d
   where d.tenant = intake.current_tenant()
     and d.subscription_id = outbound_recovery_count.subscription_id
     and d.status = 'failed' and d.created_at >= outbound_recovery_count.since
$$;
comment on function intake.outbound_recovery_count(uuid, timestamptz) is
  'The number of failed deliveries of a subscription created since a time: what a recovery would re-send.';
grant execute on function intake.outbound_recovery_count(uuid, timestamptz) to intake_user, intake_app;
