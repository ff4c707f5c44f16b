-- Recover in p_tenant: re-send every failed delivery of a subscription created since a time.
-- Counts them (created before this transaction's time, the cut-off), records the run with that
-- total and adds its first outbound_recovery_chunk job; the chunks re-send 100 at a time in
-- (created_at, delivery_id) order and move the run's position and progress in the same
-- transaction, so a chunk that runs again starts after the last committed one. No permission
-- check: intake.start_outbound_recovery() checks it for the API; the CLI runs as the owner with
-- the tenant named (p_started_by null).
create or replace function intake_private.start_outbound_recovery(p_tenant uuid, p_subscription_id uuid, p_since timestamptz, p_started_by uuid default null)
  returns intake.outbound_recoveries
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_total int;
  v_row intake.outbound_recoveries;
begin
  if p_since is null then
    raise exception 'since: a time is required' using errcode = '22023';
  end if;
  if not exists (select 1 from intake.outbound_subscriptions s
                  where s.tenant = p_tenant and s.subscription_id = p_subscription_id) then
    raise exception 'outbound subscription % not found', p_subscription_id using errcode = 'P0002';
  end if;
  select count(*)::int into v_total from intake.outbound_deliveries d
   where d.tenant = p_tenant and d.subscription_id = p_subscription_id
     and d.status = 'failed' and d.created_at >= p_since and d.created_at < now();
  insert into intake.outbound_recoveries (tenant, subscription_id, since, cutoff_at, total, status, started_by, finished_at)
  values (p_tenant, p_subscription_id, p_since, now(), v_total,
          case when v_total = 0 then 'finished' else 'running' end, p_started_by,
          case when v_total = 0 then now() end)
  returning * into v_row;
  if v_total > 0 then
    perform graphile_worker.add_job(
      identifier => 'outbound_recovery_chunk',
      payload => json_build_object('tenant', p_tenant, 'recovery_id', v_row.recovery_id),
      max_attempts => 10,
      job_key => 'outbound_recovery:' || v_row.recovery_id::text,
      job_key_mode => 'replace');
  end if;
  return v_row;
end
$$;
comment on function intake_private.start_outbound_recovery(uuid, uuid, timestamptz, uuid) is
  'Starts re-sending every failed delivery of a subscription of the tenant created since a time, as a job with progress. Checks no permission.';
