-- Adds the bulk_replay_chunk job of a running bulk replay, in the caller's transaction: for its
-- first chunk (intake.start_bulk_replay) and for each next one (intake_private.bulk_replay_chunk).
-- The payload carries ids only; the position is in the row. One job key per bulk replay, so at
-- most one unlocked job waits for it (a job that ran again after its commit, and so enqueued a
-- second successor, is merged into the first); chunks lock the row, so two that do run at once
-- take turns and each takes the originals after the other's.
create or replace function intake_private.enqueue_bulk_replay(p_tenant uuid, p_bulk_replay_id uuid) returns void
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  -- callable by intake_user (through start) and intake_app (chunks): only a running bulk replay
  -- of the caller's tenant, when one is set
  if intake.current_tenant() is not null and p_tenant is distinct from intake.current_tenant() then
    raise exception 'bulk replay % is not of the current tenant', p_bulk_replay_id using errcode = '42501';
  end if;
  if not exists (select 1 from intake.bulk_replays b
                  where b.tenant = p_tenant and b.bulk_replay_id = p_bulk_replay_id and b.status = 'running') then
    raise exception 'bulk replay % is not running', p_bulk_replay_id using errcode = '55000';
  end if;
  perform graphile_worker.add_job(
    identifier => 'bulk_replay_chunk',
    payload => json_build_object('tenant', p_tenant, 'bulk_replay_id', p_bulk_replay_id),
    max_attempts => 10,
    job_key => 'bulk_replay:' || p_bulk_replay_id::text,
    job_key_mode => 'replace'
  );
end
$$;
comment on function intake_private.enqueue_bulk_replay(uuid, uuid) is
  'Adds the bulk_replay_chunk job of a running bulk replay (same transaction as the caller).';
grant execute on function intake_private.enqueue_bulk_replay(uuid, uuid) to intake_user, intake_app;
