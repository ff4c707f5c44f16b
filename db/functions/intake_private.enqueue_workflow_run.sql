-- Enqueues the run_workflow job for one workflow run, in the caller's transaction (the dispatch
-- transaction that inserted the run), so a run never exists without its job. Ids only.
create or replace function intake_private.enqueue_workflow_run(p_tenant uuid, p_run_id uuid)
  returns void
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  -- Callable by intake_app, so it only enqueues a run of the caller's own tenant that exists and
  -- has not finished; its job_key makes a second call for the same run a no-op.
  if p_tenant is distinct from intake.current_tenant() then
    raise exception 'run % is not of the current tenant (set intake.tenant)', p_run_id using errcode = '42501';
  end if;
  if not exists (
    select 1 from intake.workflow_runs r
     where r.tenant = p_tenant and r.run_id = p_run_id and r.status in ('pending', 'running')
  ) then
    raise exception 'workflow run % is not pending', p_run_id using errcode = '55000';
  end if;
  perform graphile_worker.add_job(
    identifier => 'run_workflow',
    payload => json_build_object('tenant', p_tenant, 'run_id', p_run_id),
    max_attempts => 8,
    job_key => 'run:' || p_run_id::text,
    job_key_mode => 'preserve_run_at'
  );
end
$$;
comment on function intake_private.enqueue_workflow_run(uuid, uuid) is
  'Adds the run_workflow job for a pending or running workflow run (same transaction as the caller; tenant must be set).';
grant execute on function intake_private.enqueue_workflow_run(uuid, uuid) to intake_app;
