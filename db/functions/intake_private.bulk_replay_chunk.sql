-- One chunk of a bulk replay, in the caller's transaction (the bulk_replay_chunk task's, as
-- intake_app with the tenant set): locks the bulk replay's row, replays the next p_limit
-- originals after its keyset position in (received_at, delivery_id) order through
-- intake.replay_delivery (the single-replay path), moves the position and the counts, and either
-- finishes the run or enqueues the next chunk's job — all in the one transaction. So a job that
-- fails rolls back its replays with its position, and a job that runs again after its commit
-- starts after the position it moved: no original is replayed twice. Never more than total: a
-- delivery that committed after the start with an earlier received_at is not taken.
-- An original deleted between the chunk's read and its replay counts as failed, and so does one
-- that was never dispatched when the run replays with the dispatched configuration; any other
-- error fails the chunk (the job retries it).
create or replace function intake_private.bulk_replay_chunk(p_tenant uuid, p_bulk_replay_id uuid, p_limit int default 100)
  returns intake.bulk_replays
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_run intake.bulk_replays;
  v_where text;
  v_limit int;
  v_original record;
  v_seen int := 0;
  v_failed int := 0;
  v_last_at timestamptz;
  v_last_id uuid;
  v_done boolean;
begin
  if p_limit is null or p_limit < 1 then
    raise exception 'chunk size must be positive (got %)', p_limit using errcode = '22023';
  end if;
  select * into v_run from intake.bulk_replays b
   where b.tenant = p_tenant and b.bulk_replay_id = p_bulk_replay_id
     for update;
  if not found or v_run.status <> 'running' then
    return v_run; -- gone with its webhook, or already finished: nothing to do
  end if;

  v_where := intake_private.bulk_replay_condition(v_run.tenant, v_run.inbound_webhook_id, v_run.dispatch_status,
    v_run.is_test, v_run.is_replay, v_run.received_from, v_run.received_before, v_run.cutoff_at);
  if v_run.last_delivery_id is not null then
    v_where := v_where || format(' and (d.received_at, d.delivery_id) > (%L::timestamptz, %L::uuid)',
      v_run.last_received_at, v_run.last_delivery_id);
  end if;
  v_limit := least(p_limit, v_run.total - v_run.processed);

  for v_original in execute
    'select d.delivery_id, d.received_at from intake.inbound_webhook_deliveries d where ' || v_where
    || ' order by d.received_at, d.delivery_id limit ' || v_limit
  loop
    begin
      perform intake.replay_delivery(v_original.delivery_id, v_run.configuration);
    exception when no_data_found or invalid_parameter_value then
      v_failed := v_failed + 1;
    end;
    v_seen := v_seen + 1;
    v_last_at := v_original.received_at;
    v_last_id := v_original.delivery_id;
  end loop;

  -- fewer than asked for: none is left (deleted ones make processed end below total)
  v_done := v_seen < v_limit or v_run.processed + v_seen >= v_run.total;
  update intake.bulk_replays b
     set processed = b.processed + v_seen,
         failed = b.failed + v_failed,
         last_received_at = coalesce(v_last_at, b.last_received_at),
         last_delivery_id = coalesce(v_last_id, b.last_delivery_id),
         status = case when v_done then 'finished' else b.status end,
         finished_at = case when v_done then now() end
   where b.tenant = v_run.tenant and b.bulk_replay_id = v_run.bulk_replay_id
  returning * into v_run;
  if not v_done then
    perform intake_private.enqueue_bulk_replay(v_run.tenant, v_run.bulk_replay_id);
  end if;
  return v_run;
end
$$;
comment on function intake_private.bulk_replay_chunk(uuid, uuid, int) is
  'Replays the next chunk of a running bulk replay after its keyset position and records progress (and the next chunk''s job) in the same transaction.';
grant execute on function intake_private.bulk_replay_chunk(uuid, uuid, int) to intake_app;
