-- A synthetic request for trying a webhook's mapping from the UI: a delivery marked is_test,
-- recorded and dispatched exactly like a received one (so its action really runs), without
-- authentication or an idempotency key. Works on inactive webhooks too, so a configuration can
-- be tried before it is switched on. Runs as the caller: row-level security decides which
-- webhooks it sees.
create or replace function intake.send_test_delivery(inbound_webhook_id uuid, body jsonb, headers jsonb default '{}')
  returns intake.inbound_webhook_deliveries
  language plpgsql volatile strict
  set search_path = pg_catalog
  as $$
declare
  v_hook record;
  v_row intake.inbound_webhook_deliveries;
  v_headers jsonb;
begin
  perform intake.require_permission('inbound_webhook', 'update');
  if headers is not null and jsonb_typeof(headers) <> 'object' then
    raise exception 'headers must be an object of header name to value' using errcode = '22023';
  end if;
  select w.tenant, w.inbound_webhook_id, w.slug, t.slug as tenant_slug into v_hook
    from intake.inbound_webhooks w
    join psa.tenants t on t.tenant = w.tenant
   where w.inbound_webhook_id = send_test_delivery.inbound_webhook_id;
  if not found then
    raise exception 'inbound webhook % not found', send_test_delivery.inbound_webhook_id using errcode = 'P0002';
  end if;
  -- header names lower-cased, credentials dropped, as the receiver stores them
  select coalesce(jsonb_object_agg(lower(h.key), h.value), '{}') into v_headers
    from jsonb_each(coalesce(headers, '{}')) h
   where lower(h.key) not in ('authorization', 'cookie', 'set-cookie', 'proxy-authorization');

  -- the body and headers apart, as the receiver keeps them (migration 000015)
  insert into intake.inbound_webhook_deliveries as d (
    tenant, inbound_webhook_id, received_at, request_method, request_path,
    body_format, content_type, user_agent, is_test, body_size, body_sha256, body_head
  ) values (
    v_hook.tenant, v_hook.inbound_webhook_id, now(), 'POST',
    '/api/inbound/' || v_hook.tenant_slug || '/' || v_hook.slug,
    'json', 'application/json', 'intake-test', true,
    octet_length(body::text), sha256(convert_to(body::text, 'UTF8')), left(body::text, 256)
  )
  returning * into v_row;
  insert into intake.inbound_webhook_delivery_bodies (tenant, delivery_id, received_at, request_headers, request_body)
  values (v_row.tenant, v_row.delivery_id, v_row.received_at, v_headers || jsonb_build_object('content-type', 'application/json'), body);
  v_row := intake.delivery_with_body(v_row);
  perform intake_private.enqueue_dispatch(v_row.tenant, v_row.delivery_id, v_row.inbound_webhook_id);
  return v_row;
end
$$;
comment on function intake.send_test_delivery(uuid, jsonb, jsonb) is
  'Records a synthetic test delivery (is_test) with the given JSON body and dispatches it like a received one (needs inbound_webhook:update).';
grant execute on function intake.send_test_delivery(uuid, jsonb, jsonb) to intake_user;
