-- It took three arguments before p_trigger: databases loaded from an earlier state of the
-- outbound branch hold that one, which would make three-argument calls ambiguous.
drop function if exists intake_private.enqueue_outbound_delivery(uuid, uuid, timestamptz);
-- Adds (or moves) the outbound_deliver job of a delivery, in the caller's transaction: one job
-- key per delivery, so a retry asked for while an attempt is scheduled replaces the scheduled
-- one instead of adding a second. Attempts are scheduled by Intake (run_at), not by
-- graphile-worker's backoff, which cannot express Svix's schedule; max_attempts only covers the
-- job failing itself (the database unreachable), never an HTTP failure. p_trigger: what the
-- attempt is recorded as (scheduled; manual for a retry or recovery; test).
create or replace function intake_private.enqueue_outbound_delivery(
  p_tenant uuid, p_delivery_id uuid, p_run_at timestamptz default now(), p_trigger text default 'scheduled'
)
  returns void
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  if p_trigger not in ('scheduled', 'manual', 'test') then
    raise exception 'trigger must be scheduled, manual or test, got %', p_trigger using errcode = '22023';
  end if;
  if intake.current_tenant() is not null and p_tenant is distinct from intake.current_tenant() then
    raise exception 'delivery % is not of the current tenant', p_delivery_id using errcode = '42501';
  end if;
  perform graphile_worker.add_job(
    identifier => 'outbound_deliver',
    payload => json_build_object('tenant', p_tenant, 'delivery_id', p_delivery_id, 'trigger', p_trigger),
    run_at => p_run_at,
    max_attempts => 25,
    job_key => 'outbound_delivery:' || p_delivery_id::text,
    job_key_mode => 'replace'
  );
end
$$;
comment on function intake_private.enqueue_outbound_delivery(uuid, uuid, timestamptz, text) is
  'Adds or moves the outbound_deliver job of a delivery to run at p_run_at (same transaction as the caller).';
grant execute on function intake_private.enqueue_outbound_delivery(uuid, uuid, timestamptz, text) to intake_app;
