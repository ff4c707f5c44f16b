-- Opens a sample-capture window: the first verified body received in it becomes the webhook's
-- sample_payload (intake.receive_delivery does the capturing). Re-capture overwrites. Runs as the
-- caller: row-level security decides which webhooks it sees; the API role needs
-- inbound_webhook:update.
create or replace function intake.capture_sample(p_inbound_webhook_id uuid, p_minutes int default 5)
  returns timestamptz
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_until timestamptz;
begin
  perform intake.require_permission('inbound_webhook', 'update');
  if p_minutes is null or p_minutes < 1 or p_minutes > 1440 then
    raise exception 'capture window must be between 1 and 1440 minutes, got %', p_minutes using errcode = '22023';
  end if;
  update intake.inbound_webhooks w
     set sample_capture_until = now() + make_interval(mins => p_minutes)
   where w.inbound_webhook_id = p_inbound_webhook_id
  returning w.sample_capture_until into v_until;
  if not found then
    raise exception 'inbound webhook % not found', p_inbound_webhook_id using errcode = 'P0002';
  end if;
  return v_until;
end
$$;
comment on function intake.capture_sample(uuid, int) is
  'Opens a capture window (default 5 minutes); the first verified body in it becomes sample_payload. Returns when the window closes.';
grant execute on function intake.capture_sample(uuid, int) to intake_app, intake_user;
