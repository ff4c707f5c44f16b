-- One chunk of a recovery (the outbound_recovery_chunk job), in one transaction: locks the run,
-- re-sends the next p_chunk failed deliveries after its keyset position (back to pending, their
-- jobs added now), moves the position and progress, and adds the next chunk's job or marks the
-- run finished. Deliveries that are no longer failed (retried meanwhile) are passed over but
-- counted. Returns the run.
create or replace function intake_private.outbound_recovery_chunk(p_tenant uuid, p_recovery_id uuid, p_chunk int default 100)
  returns intake.outbound_recoveries
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_run intake.outbound_recoveries;
  v_last record;
  v_n int;
begin
  select * into v_run from intake.outbound_recoveries r
   where r.tenant = p_tenant and r.recovery_id = p_recovery_id
     for update;
  if not found or v_run.status <> 'running' then
    return v_run;
  end if;
  create temporary table if not exists outbound_recovery_picked (delivery_id uuid, created_at timestamptz) on commit drop;
  truncate outbound_recovery_picked;
  insert into outbound_recovery_picked
  select d.delivery_id, d.created_at from intake.outbound_deliveries d
   where d.tenant = p_tenant and d.subscription_id = v_run.subscription_id
     and d.status = 'failed' and d.created_at >= v_run.since and d.created_at < v_run.cutoff_at
     and (v_run.last_created_at is null or (d.created_at, d.delivery_id) > (v_run.last_created_at, v_run.last_delivery_id))
   order by d.created_at, d.delivery_id
   limit p_chunk;
  get diagnostics v_n = row_count;

  update intake.outbound_deliveries d set status = 'pending', next_attempt_at = now()
    from outbound_recovery_picked p
   where d.tenant = p_tenant and d.delivery_id = p.delivery_id;
  perform intake_private.enqueue_outbound_delivery(p_tenant, p.delivery_id, now(), 'manual') from outbound_recovery_picked p;

  select p.created_at, p.delivery_id into v_last from outbound_recovery_picked p order by p.created_at desc, p.delivery_id desc limit 1;
  update intake.outbound_recoveries r
     set processed = least(r.total, r.processed + v_n),
         last_created_at = coalesce(v_last.created_at, r.last_created_at),
         last_delivery_id = coalesce(v_last.delivery_id, r.last_delivery_id),
         status = case when v_n < p_chunk then 'finished' else r.status end,
         finished_at = case when v_n < p_chunk then now() end
   where r.tenant = p_tenant and r.recovery_id = p_recovery_id
  returning * into v_run;
  if v_run.status = 'running' then
    perform graphile_worker.add_job(
      identifier => 'outbound_recovery_chunk',
      payload => json_build_object('tenant', p_tenant, 'recovery_id', p_recovery_id),
      max_attempts => 10,
      job_key => 'outbound_recovery:' || p_recovery_id::text,
      job_key_mode => 'replace');
  end if;
  return v_run;
end
$$;
comment on function intake_private.outbound_recovery_chunk(uuid, uuid, int) is
  'Re-sends the next chunk of a recovery''s failed deliveries, moves its position and progress, and adds the next chunk''s job.';
