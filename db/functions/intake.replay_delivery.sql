-- Replays a delivery against the webhook's current configuration: a new delivery row with
-- is_replay and replayed_from set, dispatched like any other. Runs as the caller, so row-level
-- security decides which deliveries a caller may replay (a superuser DBA: any); the API role
-- needs inbound_webhook:replay. Its received_at is clock_timestamp(), not the transaction's now():
-- replays made in one transaction (a bulk replay's chunk) then drain in the order they were made.
create or replace function intake.replay_delivery(p_delivery_id uuid) returns uuid
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_original intake.inbound_webhook_deliveries;
  v_id uuid := gen_random_uuid();
begin
  perform intake.require_permission('inbound_webhook', 'replay');
  select * into v_original from intake.inbound_webhook_deliveries d where d.delivery_id = p_delivery_id;
  if not found then
    raise exception 'delivery % not found', p_delivery_id using errcode = 'P0002';
  end if;

  insert into intake.inbound_webhook_deliveries (
    tenant, delivery_id, inbound_webhook_id, idempotency_key, received_at, request_method, request_path,
    request_headers, request_body, request_body_text, body_format, content_type, source_ip, user_agent,
    is_replay, replayed_from, is_test
  ) values (
    v_original.tenant, v_id, v_original.inbound_webhook_id, v_original.idempotency_key, clock_timestamp(),
    v_original.request_method, v_original.request_path, v_original.request_headers, v_original.request_body,
    v_original.request_body_text, v_original.body_format, v_original.content_type, v_original.source_ip,
    v_original.user_agent, true, v_original.delivery_id, v_original.is_test
  );
  perform intake_private.enqueue_dispatch(v_original.tenant, v_id, v_original.inbound_webhook_id);
  return v_id;
end
$$;
comment on function intake.replay_delivery(uuid) is
  'Re-dispatches a delivery against the current config as a new delivery (is_replay, replayed_from). Returns the new delivery_id.';
grant execute on function intake.replay_delivery(uuid) to intake_app, intake_user;
