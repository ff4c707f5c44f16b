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
-- The body and headers are the original's, wherever they are kept (intake.delivery_with_body);
-- once retention has cut them there is nothing to replay: an error that says when (22023).
create or replace function intake.replay_delivery(p_delivery_id uuid, p_configuration intake.replay_configuration default 'current')
  returns uuid
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_original intake.inbound_webhook_deliveries;
  v_id uuid := gen_random_uuid();
  v_version int;
  v_received timestamptz := clock_timestamp();
  v_text text;
begin
  perform intake.require_permission('inbound_webhook', 'replay');
  select * into v_original from intake.inbound_webhook_deliveries d where d.delivery_id = p_delivery_id;
  if not found then
    raise exception 'delivery % not found', p_delivery_id using errcode = 'P0002';
  end if;
  v_original := intake.delivery_with_body(v_original);
  if v_original.body_cut_at is not null then
    raise exception 'delivery % cannot be replayed: its body was cut by retention on % (only its size, SHA-256 and head are kept)',
      p_delivery_id, to_char(v_original.body_cut_at at time zone 'UTC', 'YYYY-MM-DD')
      using errcode = '22023', detail = intake.delivery_body_note(v_original);
  end if;
  if v_original.body_size is null then
    -- recorded before bodies were kept apart: what the row keeps once the copy's body is cut
    v_text := coalesce(v_original.request_body_text, v_original.request_body::text, '');
    v_original.body_size := octet_length(v_text);
    v_original.body_sha256 := sha256(convert_to(v_text, 'UTF8'));
    v_original.body_head := left(v_text, 256);
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
    body_format, content_type, source_ip, user_agent, body_size, body_sha256, body_head,
    is_replay, replayed_from, is_test, dispatch_config_version
  ) values (
    v_original.tenant, v_id, v_original.inbound_webhook_id, v_original.idempotency_key, v_received,
    v_original.request_method, v_original.request_path, v_original.body_format, v_original.content_type,
    v_original.source_ip, v_original.user_agent, v_original.body_size, v_original.body_sha256, v_original.body_head,
    true, v_original.delivery_id, v_original.is_test, v_version
  );
  insert into intake.inbound_webhook_delivery_bodies (tenant, delivery_id, received_at, request_headers, request_body, request_body_text)
  values (v_original.tenant, v_id, v_received, coalesce(v_original.request_headers, '{}'), v_original.request_body, v_original.request_body_text);
  perform intake_private.enqueue_dispatch(v_original.tenant, v_id, v_original.inbound_webhook_id);
  return v_id;
end
$$;
comment on function intake.replay_delivery(uuid, intake.replay_configuration) is
  'Re-dispatches a delivery as a new delivery (is_replay, replayed_from) with the current configuration, or with the one the original was dispatched with. Returns the new delivery_id.';
grant execute on function intake.replay_delivery(uuid, intake.replay_configuration) to intake_app, intake_user;
