-- Forgets a webhook's captured sample and closes any open capture window.
create or replace function intake.clear_sample(inbound_webhook_id uuid)
  returns intake.inbound_webhooks
  language plpgsql volatile strict
  set search_path = pg_catalog
  as $$
declare
  v_row intake.inbound_webhooks;
begin
  perform intake.require_permission('inbound_webhook', 'update');
  update intake.inbound_webhooks w
     set sample_payload = null, sample_captured_at = null, sample_capture_until = null
   where w.inbound_webhook_id = clear_sample.inbound_webhook_id
  returning * into v_row;
  if not found then
    raise exception 'inbound webhook % not found', clear_sample.inbound_webhook_id using errcode = 'P0002';
  end if;
  return v_row;
end
$$;
comment on function intake.clear_sample(uuid) is
  'Clears the captured sample payload and closes the capture window (needs inbound_webhook:update).';
grant execute on function intake.clear_sample(uuid) to intake_user, intake_app;
