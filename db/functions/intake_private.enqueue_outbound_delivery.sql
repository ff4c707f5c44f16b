-- Adds (or moves) the outbound_deliver job of a delivery, in the caller's transaction: one job
-- key per delivery, so a retry asked for while an attempt is scheduled replaces the scheduled
-- one instead of adding a second. Attempts are scheduled by Intake (run_at), not by
-- graphile-worker's backoff, which cannot express Svix's schedule; max_attempts only covers the
-- job failing itself (the database unreachable), never an HTTP failure.
create or replace function intake_private.enqueue_outbound_delivery(p_tenant uuid, p_delivery_id uuid, p_run_at timestamptz default now())
  returns void
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  if intake.current_tenant() is not null and p_tenant is distinct from intake.current_tenant() then
    raise exception 'delivery % is not of the current tenant', p_delivery_id using errcode = '42501';
  end if;
  perform graphile_worker.add_job(
    identifier => 'outbound_deliver',
    payload => json_build_object('tenant', p_tenant, 'delivery_id', p_delivery_id),
    run_at => p_run_at,
    max_attempts => 25,
    job_key => 'outbound_delivery:' || p_delivery_id::text,
    job_key_mode => 'replace'
  );
end
$$;
comment on function intake_private.enqueue_outbound_delivery(uuid, uuid, timestamptz) is
  'Adds or moves the outbound_deliver job of a delivery to run at p_run_at (same transaction as the caller).';
grant execute on function intake_private.enqueue_outbound_delivery(uuid, uuid, timestamptz) to intake_app;
