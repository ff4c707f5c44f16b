-- The API's form of intake.capture_sample(): opens the capture window and returns the webhook.
create or replace function intake.start_sample_capture(inbound_webhook_id uuid, minutes int default 5)
  returns intake.inbound_webhooks
  language plpgsql volatile strict
  set search_path = pg_catalog
  as $$
declare
  v_row intake.inbound_webhooks;
begin
  perform intake.capture_sample(start_sample_capture.inbound_webhook_id, coalesce(minutes, 5));
  select * into v_row from intake.inbound_webhooks w where w.inbound_webhook_id = start_sample_capture.inbound_webhook_id;
  return v_row;
end
$$;
comment on function intake.start_sample_capture(uuid, int) is
  'Opens a sample-capture window (default 5 minutes; needs inbound_webhook:update) and returns the webhook.';
grant execute on function intake.start_sample_capture(uuid, int) to intake_user;
