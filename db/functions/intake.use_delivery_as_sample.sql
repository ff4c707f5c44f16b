-- "Use as sample" on a delivery in the log (issue 12): the delivery's parsed body becomes its
-- webhook's sample_payload, as a captured request's would (any open capture window closes). The
-- sample is not configuration: no new version. Runs as the caller: row-level security decides
-- which deliveries it sees; the API role needs inbound_webhook:update, as capturing does.
create or replace function intake.use_delivery_as_sample(delivery_id uuid)
  returns intake.inbound_webhooks
  language plpgsql volatile strict
  set search_path = pg_catalog
  as $$
declare
  v_delivery intake.inbound_webhook_deliveries;
  v_row intake.inbound_webhooks;
begin
  perform intake.require_permission('inbound_webhook', 'update');
  select * into v_delivery from intake.inbound_webhook_deliveries d where d.delivery_id = use_delivery_as_sample.delivery_id;
  if not found then
    raise exception 'delivery % not found', use_delivery_as_sample.delivery_id using errcode = 'P0002';
  end if;
  v_delivery := intake.delivery_with_body(v_delivery);
  if v_delivery.body_cut_at is not null then
    raise exception 'delivery % has no body to use as a sample: it was cut by retention on %', v_delivery.delivery_id,
      to_char(v_delivery.body_cut_at at time zone 'UTC', 'YYYY-MM-DD')
      using errcode = '22023', detail = intake.delivery_body_note(v_delivery);
  end if;
  if v_delivery.request_body is null then
    raise exception 'delivery % has no parsed body to use as a sample (it was not JSON, form or text that could be stored)', v_delivery.delivery_id
      using errcode = '22023';
  end if;
  update intake.inbound_webhooks w
     set sample_payload = v_delivery.request_body, sample_captured_at = now(), sample_capture_until = null
   where w.tenant = v_delivery.tenant and w.inbound_webhook_id = v_delivery.inbound_webhook_id
  returning * into v_row;
  return v_row;
end
$$;
comment on function intake.use_delivery_as_sample(uuid) is
  'Makes a delivery''s body its webhook''s sample payload (needs inbound_webhook:update); returns the webhook.';
grant execute on function intake.use_delivery_as_sample(uuid) to intake_user, intake_app;
