-- It took six arguments before configuration.
drop function if exists intake.start_bulk_replay(uuid, text, boolean, boolean, timestamptz, timestamptz);

-- Bulk replay: records a run over every delivery matching the filter (null = any; the delivery
-- log's condition) received before now, with its total, and enqueues the job that replays them
-- chunk by chunk through intake.replay_delivery (intake_private.bulk_replay_chunk). Returns the
-- row; its progress is in the same row. Runs as the caller: intake_user needs
-- inbound_webhook:replay, and row-level security decides what is counted. A DBA in psql may call
-- it without intake.tenant when the filter names a webhook (its tenant is taken). configuration:
-- each replay's, as for intake.replay_delivery (default current).
create or replace function intake.start_bulk_replay(
  inbound_webhook_id uuid default null, dispatch_status text default null, is_test boolean default null,
  is_replay boolean default null, received_from timestamptz default null, received_before timestamptz default null,
  configuration intake.replay_configuration default 'current'
) returns intake.bulk_replays
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_tenant uuid;
  v_total int;
  v_row intake.bulk_replays;
begin
  perform intake.require_permission('inbound_webhook', 'replay');
  v_tenant := intake_private.bulk_replay_tenant(start_bulk_replay.inbound_webhook_id);
  if start_bulk_replay.inbound_webhook_id is not null and not exists (
       select 1 from intake.inbound_webhooks w
        where w.tenant = v_tenant and w.inbound_webhook_id = start_bulk_replay.inbound_webhook_id) then
    raise exception 'inbound webhook % not found', start_bulk_replay.inbound_webhook_id using errcode = 'P0002';
  end if;
  -- the cut-off is now(), this transaction's time: what is counted here is what the chunks take
  execute 'select count(*)::int from intake.inbound_webhook_deliveries d where '
       || intake_private.bulk_replay_condition(v_tenant, start_bulk_replay.inbound_webhook_id,
            start_bulk_replay.dispatch_status, start_bulk_replay.is_test, start_bulk_replay.is_replay,
            start_bulk_replay.received_from, start_bulk_replay.received_before, now())
    into v_total;

  insert into intake.bulk_replays as b (
    tenant, inbound_webhook_id, dispatch_status, is_test, is_replay, received_from, received_before,
    cutoff_at, total, status, started_by, started_at, finished_at, configuration
  ) values (
    v_tenant, start_bulk_replay.inbound_webhook_id, start_bulk_replay.dispatch_status, start_bulk_replay.is_test,
    start_bulk_replay.is_replay, start_bulk_replay.received_from, start_bulk_replay.received_before,
    now(), v_total, case when v_total = 0 then 'finished' else 'running' end, intake.current_user_id(), now(),
    case when v_total = 0 then now() end, coalesce(start_bulk_replay.configuration, 'current')
  )
  returning * into v_row;
  if v_total > 0 then
    perform intake_private.enqueue_bulk_replay(v_tenant, v_row.bulk_replay_id);
  end if;
  return v_row;
end
$$;
comment on function intake.start_bulk_replay(uuid, text, boolean, boolean, timestamptz, timestamptz, intake.replay_configuration) is
  'Starts replaying every delivery matching the filter (null = any) received before now, as a job (needs inbound_webhook:replay), with the current configuration or each one''s dispatched one; returns the bulk replay with its total.';
grant execute on function intake.start_bulk_replay(uuid, text, boolean, boolean, timestamptz, timestamptz, intake.replay_configuration) to intake_user, intake_app;
