-- It took one argument before p_configuration.
drop function if exists intake.replay_delivery(uuid);

-- Replays a delivery as a new delivery row with is_replay and replayed_from set, dispatched like
-- any other: with the webhook's current configuration (p_configuration 'current', the default),
-- or with the configuration version the original was dispatched with ('dispatched': the new
-- row's dispatch_config_version, which the worker dispatches it with; an error when the
-- original was never dispatched). Runs as the caller, so row-level security decides which
-- deliveries a caller may replay (a superuser DBA: any); the API role needs
-- inbound_webhook:replay. Its received_at is clock_timestamp(), not the transaction's now():
-- replays made in one transaction (a bulk replay's chunk) then drain in the order they were made.
create or replace function intake.replay_delivery(p_delivery_id uuid, p_configuration intake.replay_configuration default 'current')
  returns uuid
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_original intake.inbound_webhook_deliveries;
  v_id uuid := gen_random_uuid();
  v_version int;
begin
  perform intake.require_permission('inbound_webhook', 'replay');
  select * into v_original from intake.inbound_webhook_deliveries d where d.delivery_id = p_delivery_id;
  if not found then
    raise exception 'delivery % not found', p_delivery_id using errcode = 'P0002';
  end if;
  if coalesce(p_configuration, 'current') = 'dispatched' then
    v_version := v_original.config_version;
    if v_version is null then
      raise exception 'delivery % was never dispatched, so it has no configuration to replay with; replay it with the current configuration', p_delivery_id
        using errcode = '22023';
    end if;
  end if;

  insert into intake.inbound_webhook_deliveries (
    tenant, delivery_id, inbound_webhook_id, idempotency_key, received_at, request_method, request_path,
    request_headers, request_body, request_body_text, body_format, content_type, source_ip, user_agent,
    is_replay, replayed_from, is_test, dispatch_config_version
  ) values (
    v_original.tenant, v_id, v_original.inbound_webhook_id, v_original.idempotency_key, clock_timestamp(),
    v_original.request_method, v_original.request_path, v_original.request_headers, v_original.request_body,
    v_original.request_body_text, v_original.body_format, v_original.content_type, v_original.source_ip,
    v_original.user_agent, true, v_original.delivery_id, v_original.is_test, v_version
  );
  perform intake_private.enqueue_dispatch(v_original.tenant, v_id, v_original.inbound_webhook_id);
  return v_id;
end
$$;
comment on function intake.replay_delivery(uuid, intake.replay_configuration) is
  'Re-dispatches a delivery as a new delivery (is_replay, replayed_from) with the current configuration, or with the one the original was dispatched with. Returns the new delivery_id.';
grant execute on function intake.replay_delivery(uuid, intake.replay_configuration) to intake_app, intake_user;
