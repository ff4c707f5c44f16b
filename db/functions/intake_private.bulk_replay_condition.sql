-- The one home of a bulk replay's filter: the WHERE clause (over intake.inbound_webhook_deliveries
-- as d) that intake.bulk_replay_count, intake.start_bulk_replay and each chunk of
-- intake_private.bulk_replay_chunk run. Its semantics are exactly those of the delivery log's
-- condition (graphql/plugins/conditions.ts and the equality conditions): inbound_webhook_id,
-- dispatch_status, is_test, is_replay equal; received_at >= received_from and < received_before;
-- a null argument means any. Plus the tenant and the cut-off (received_at < cutoff_at), so the
-- replays a bulk replay makes are never its own originals. Built as text with literals, run with
-- EXECUTE: each run is planned for the arguments it has, so a webhook's filter uses the webhook's
-- index rather than a generic plan with "x is null or …" for every column.
create or replace function intake_private.bulk_replay_condition(
  p_tenant uuid, p_inbound_webhook_id uuid, p_dispatch_status text, p_is_test boolean, p_is_replay boolean,
  p_received_from timestamptz, p_received_before timestamptz, p_cutoff_at timestamptz
) returns text
  language plpgsql stable
  set search_path = pg_catalog
  as $$
begin
  if p_tenant is null then
    raise exception 'no tenant: set intake.tenant or name a webhook' using errcode = '22023';
  end if;
  if p_dispatch_status is not null and p_dispatch_status not in ('pending', 'dispatched', 'duplicate', 'failed') then
    raise exception 'dispatchStatus must be one of pending, dispatched, duplicate, failed (got %)', p_dispatch_status
      using errcode = '22023';
  end if;
  -- format('%L', null) is the text NULL, so an absent argument must leave its term out
  return concat_ws(' and ',
    format('d.tenant = %L::uuid', p_tenant),
    case when p_inbound_webhook_id is not null then format('d.inbound_webhook_id = %L::uuid', p_inbound_webhook_id) end,
    case when p_dispatch_status is not null then format('d.dispatch_status = %L', p_dispatch_status) end,
    case when p_is_test is not null then format('d.is_test = %L::boolean', p_is_test) end,
    case when p_is_replay is not null then format('d.is_replay = %L::boolean', p_is_replay) end,
    case when p_received_from is not null then format('d.received_at >= %L::timestamptz', p_received_from) end,
    case when p_received_before is not null then format('d.received_at < %L::timestamptz', p_received_before) end,
    format('d.received_at < %L::timestamptz', p_cutoff_at)
  );
end
$$;
comment on function intake_private.bulk_replay_condition(uuid, uuid, text, boolean, boolean, timestamptz, timestamptz, timestamptz) is
  'The WHERE clause (over deliveries as d) of a bulk replay''s filter, cut-off and tenant; 22023 for an unknown dispatch status.';
grant execute on function intake_private.bulk_replay_condition(uuid, uuid, text, boolean, boolean, timestamptz, timestamptz, timestamptz)
  to intake_user, intake_app;
