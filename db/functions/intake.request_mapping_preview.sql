-- The dry run for psql (issue 12). JSONata runs in Node, so this records the request in
-- intake.mapping_previews and enqueues a preview_mapping job; the worker evaluates it exactly
-- as GraphQL's previewMapping does (worker/preview.ts) and writes the answer into the row:
--   select intake.request_mapping_preview('<webhook id>', '{"field_mapping": {"title": "alerts[0].labels.alertname"}}');
--   select status, result->>'summary', result->'fields', error_message from intake.mapping_previews where preview_id = '<id>';
-- p_handler: the draft, as the APIs take it (without handler_type it merges into the current
-- handler). The test input: p_delivery_id (one of the webhook's deliveries) or p_body (a
-- body; 'null'::jsonb for a JSON null), neither: the captured sample. Runs as the caller: row-
-- level security decides which webhook it may preview; the API role needs inbound_webhook:read.
create or replace function intake.request_mapping_preview(
  p_inbound_webhook_id uuid,
  p_handler jsonb,
  p_delivery_id uuid default null,
  p_body jsonb default null
) returns uuid
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_tenant uuid;
  v_id uuid := gen_random_uuid();
begin
  perform intake.require_permission('inbound_webhook', 'read');
  select w.tenant into v_tenant from intake.inbound_webhooks w where w.inbound_webhook_id = p_inbound_webhook_id;
  if not found then
    raise exception 'inbound webhook % not found', p_inbound_webhook_id using errcode = 'P0002';
  end if;
  if p_handler is null or jsonb_typeof(p_handler) <> 'object' then
    raise exception 'handler: must be a JSON object, e.g. {"field_mapping": {"title": "…"}}' using errcode = '22023';
  end if;
  if p_delivery_id is not null and p_body is not null then
    raise exception 'delivery_id, body: give one test input, not both (neither: the captured sample)' using errcode = '22023';
  end if;
  insert into intake.mapping_previews (tenant, preview_id, inbound_webhook_id, handler, delivery_id, body)
  values (v_tenant, v_id, p_inbound_webhook_id, p_handler, p_delivery_id, p_body);
  perform intake_private.enqueue_mapping_preview(v_tenant, v_id);
  return v_id;
end
$$;
comment on function intake.request_mapping_preview(uuid, jsonb, uuid, jsonb) is
  'Asks the worker for a dry run of a draft handler; its answer appears in intake.mapping_previews (status done, result). Needs inbound_webhook:read.';
grant execute on function intake.request_mapping_preview(uuid, jsonb, uuid, jsonb) to intake_user;
