-- The receiver's one SQL call: records a verified request and enqueues its dispatch in the
-- same transaction, or answers that its idempotency key was already taken inside the window.
-- Concurrent repeats are settled by the unique partial index deliveries_dedupe_key: the
-- loser's insert waits for the winner's commit, then finds its row.
create or replace function intake.receive_delivery(
  p_tenant uuid,
  p_inbound_webhook_id uuid,
  p_request_method text,
  p_request_path text,
  p_request_headers jsonb,
  p_request_body jsonb,
  p_request_body_text text,
  p_body_format text,
  p_content_type text,
  p_source_ip inet,
  p_user_agent text,
  p_idempotency_key text,
  p_received_at timestamptz,
  -- non-null: the request was verified but cannot be dispatched (e.g. malformed JSON); it is
  -- recorded as failed with this message and answered with p_failure_status
  p_failure text default null,
  p_failure_status int default 400
) returns table (delivery_id uuid, duplicate boolean, response_status int, response_body jsonb)
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_window int;
  v_id uuid := gen_random_uuid();
  v_existing record;
  v_inserted uuid;
begin
  select w.idempotency_window_seconds into v_window
    from intake.inbound_webhooks w
   where w.tenant = p_tenant and w.inbound_webhook_id = p_inbound_webhook_id;
  if not found then
    raise exception 'inbound webhook % not found for tenant %', p_inbound_webhook_id, p_tenant using errcode = 'P0002';
  end if;

  if p_failure is not null then
    insert into intake.inbound_webhook_deliveries as d (
      tenant, delivery_id, inbound_webhook_id, idempotency_key, received_at, request_method, request_path,
      request_headers, request_body, request_body_text, body_format, content_type, source_ip, user_agent,
      dispatch_status, error_message, response_status, response_body, dispatched_at
    ) values (
      p_tenant, v_id, p_inbound_webhook_id, p_idempotency_key, p_received_at, p_request_method, p_request_path,
      p_request_headers, p_request_body, p_request_body_text, p_body_format, p_content_type, p_source_ip, p_user_agent,
      'failed', p_failure, p_failure_status, jsonb_build_object('error', p_failure, 'delivery_id', v_id), now()
    );
    return query select v_id, false, p_failure_status, jsonb_build_object('error', p_failure, 'delivery_id', v_id);
    return;
  end if;

  loop
    v_inserted := null;
    insert into intake.inbound_webhook_deliveries as d (
      tenant, delivery_id, inbound_webhook_id, idempotency_key, idempotency_expires_at, dedupe_active,
      received_at, request_method, request_path, request_headers, request_body, request_body_text, body_format,
      content_type, source_ip, user_agent, response_status, response_body
    ) values (
      p_tenant, v_id, p_inbound_webhook_id, p_idempotency_key,
      case when p_idempotency_key is not null then p_received_at + make_interval(secs => v_window) end,
      p_idempotency_key is not null,
      p_received_at, p_request_method, p_request_path, p_request_headers, p_request_body, p_request_body_text,
      p_body_format, p_content_type, p_source_ip, p_user_agent, 200, jsonb_build_object('delivery_id', v_id)
    )
    on conflict (tenant, inbound_webhook_id, idempotency_key) where dedupe_active do nothing
    returning d.delivery_id into v_inserted;

    if v_inserted is not null then
      perform intake_private.enqueue_dispatch(p_tenant, v_id, p_inbound_webhook_id);
      -- Sample capture: the first verified body inside an open window becomes the sample.
      update intake.inbound_webhooks w
         set sample_payload = p_request_body, sample_captured_at = now(), sample_capture_until = null
       where w.tenant = p_tenant and w.inbound_webhook_id = p_inbound_webhook_id
         and w.sample_capture_until > now() and p_request_body is not null;
      return query select v_id, false, 200, jsonb_build_object('delivery_id', v_id);
      return;
    end if;

    select d.delivery_id, d.idempotency_expires_at into v_existing
      from intake.inbound_webhook_deliveries d
     where d.tenant = p_tenant and d.inbound_webhook_id = p_inbound_webhook_id
       and d.idempotency_key = p_idempotency_key and d.dedupe_active
       for update;
    if not found then
      continue; -- the holder released the key between our insert and select: try again
    end if;

    if v_existing.idempotency_expires_at > p_received_at then
      insert into intake.inbound_webhook_deliveries (
        tenant, delivery_id, inbound_webhook_id, idempotency_key, duplicate_of, received_at, request_method,
        request_path, request_headers, request_body, request_body_text, body_format, content_type, source_ip,
        user_agent, dispatch_status, response_status, response_body, dispatched_at
      ) values (
        p_tenant, v_id, p_inbound_webhook_id, p_idempotency_key, v_existing.delivery_id, p_received_at,
        p_request_method, p_request_path, p_request_headers, p_request_body, p_request_body_text, p_body_format,
        p_content_type, p_source_ip, p_user_agent, 'duplicate', 200,
        jsonb_build_object('delivery_id', v_existing.delivery_id, 'duplicate', true), now()
      );
      return query select v_existing.delivery_id, true, 200,
        jsonb_build_object('delivery_id', v_existing.delivery_id, 'duplicate', true);
      return;
    end if;

    -- The window has passed: the old delivery gives up the key and this one takes it.
    update intake.inbound_webhook_deliveries d set dedupe_active = false
     where d.tenant = p_tenant and d.delivery_id = v_existing.delivery_id;
  end loop;
end
$$;
comment on function intake.receive_delivery(uuid, uuid, text, text, jsonb, jsonb, text, text, text, inet, text, text, timestamptz, text, int) is
  'Records one verified inbound request and enqueues its dispatch in the same transaction; answers the original delivery for a repeat inside the idempotency window.';
-- not granted to intake_app: only the receiver (the owner) records deliveries
