-- "Replay the N deliveries matching this filter": N. The filter is the delivery log's condition
-- (intake_private.bulk_replay_condition), so N equals that list's totalCount and what
-- intake.start_bulk_replay with the same arguments replays. Runs as the caller: row-level
-- security decides what is counted (intake_user needs inbound_webhook:read).
create or replace function intake.bulk_replay_count(
  inbound_webhook_id uuid default null, dispatch_status text default null, is_test boolean default null,
  is_replay boolean default null, received_from timestamptz default null, received_before timestamptz default null
) returns int
  language plpgsql stable
  set search_path = pg_catalog
  as $$
declare
  v_count int;
begin
  perform intake.require_permission('inbound_webhook', 'read');
  execute 'select count(*)::int from intake.inbound_webhook_deliveries d where '
       || intake_private.bulk_replay_condition(
            intake_private.bulk_replay_tenant(bulk_replay_count.inbound_webhook_id),
            bulk_replay_count.inbound_webhook_id, bulk_replay_count.dispatch_status, bulk_replay_count.is_test,
            bulk_replay_count.is_replay, bulk_replay_count.received_from, bulk_replay_count.received_before, now())
    into v_count;
  return v_count;
end
$$;
comment on function intake.bulk_replay_count(uuid, text, boolean, boolean, timestamptz, timestamptz) is
  'How many deliveries match the filter (null = any; the delivery log''s condition), i.e. how many intake.start_bulk_replay would replay.';
grant execute on function intake.bulk_replay_count(uuid, text, boolean, boolean, timestamptz, timestamptz) to intake_user, intake_app;
