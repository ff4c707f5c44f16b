-- Recover: re-send every failed delivery of a subscription created since a time. Counts them
-- (created before this transaction's time, the cut-off), records the run with that total and
-- adds its first outbound_recovery_chunk job; the chunks re-send 100 at a time in
-- (created_at, delivery_id) order and move the run's position and progress in the same
-- transaction, so a chunk that runs again starts after the last committed one. Security
-- definer for the queue; needs outbound_webhook:replay.
create or replace function intake.start_outbound_recovery(subscription_id uuid, since timestamptz)
  returns intake.outbound_recoveries
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_tenant uuid := intake_private.require_tenant_permission('outbound_webhook', 'replay');
  v_total int;
  v_row intake.outbound_recoveries;
begin
  if since is null then
    raise exception 'since: a time is required' using errcode = '22023';
  end if;
  if not exists (select 1 from intake.outbound_subscriptions s
                  where s.tenant = v_tenant and s.subscription_id = start_outbound_recovery.subscription_id) then
    raise exception 'outbound subscription % not found', start_outbound_recovery.subscription_id using errcode = 'P0002';
  end if;
  select count(*)::int into v_total from intake.outbound_deliveries d
   where d.tenant = v_tenant and d.subscription_id = start_outbound_recovery.subscription_id
     and d.status = 'failed' and d.created_at >= start_outbound_recovery.since and d.created_at < now();
  insert into intake.outbound_recoveries (tenant, subscription_id, since, cutoff_at, total, status, started_by, finished_at)
  values (v_tenant, start_outbound_recovery.subscription_id, start_outbound_recovery.since, now(), v_total,
          case when v_total = 0 then 'finished' else 'running' end, intake.current_user_id(),
          case when v_total = 0 then now() end)
  returning * into v_row;
  if v_total > 0 then
    perform graphile_worker.add_job(
      identifier => 'outbound_recovery_chunk',
      payload => json_build_object('tenant', v_tenant, 'recovery_id', v_row.recovery_id),
      max_attempts => 10,
      job_key => 'outbound_recovery:' || v_row.recovery_id::text,
      job_key_mode => 'replace');
  end if;
  return v_row;
end
$$;
comment on function intake.start_outbound_recovery(uuid, timestamptz) is
  'Starts re-sending every failed delivery of a subscription created since a time, as a job with progress (needs outbound_webhook:replay).';
grant execute on function intake.start_outbound_recovery(uuid, timestamptz) to intake_user;
