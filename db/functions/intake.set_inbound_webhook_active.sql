-- Switches a webhook on or off; switching it on clears an automatic disable.
create or replace function intake.set_inbound_webhook_active(inbound_webhook_id uuid, active boolean)
  returns intake.inbound_webhooks
  language plpgsql volatile strict
  set search_path = pg_catalog
  as $$
declare
  v_row intake.inbound_webhooks;
begin
  perform intake.require_permission('inbound_webhook', 'update');
  if active is null then
    raise exception 'active must be true or false' using errcode = '22023';
  end if;
  update intake.inbound_webhooks w
     set is_active = set_inbound_webhook_active.active,
         auto_disabled_at = case when set_inbound_webhook_active.active then null else w.auto_disabled_at end
   where w.inbound_webhook_id = set_inbound_webhook_active.inbound_webhook_id
  returning * into v_row;
  if not found then
    raise exception 'inbound webhook % not found', set_inbound_webhook_active.inbound_webhook_id using errcode = 'P0002';
  end if;
  return v_row;
end
$$;
comment on function intake.set_inbound_webhook_active(uuid, boolean) is
  'Activates or deactivates an inbound webhook (needs inbound_webhook:update).';
grant execute on function intake.set_inbound_webhook_active(uuid, boolean) to intake_user;
