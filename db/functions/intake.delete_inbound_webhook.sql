-- Deletes a webhook with its credentials and its delivery log (foreign keys cascade). Runs as the
-- caller: row-level security decides which webhooks it sees.
create or replace function intake.delete_inbound_webhook(inbound_webhook_id uuid)
  returns intake.inbound_webhooks
  language plpgsql volatile strict
  set search_path = pg_catalog
  as $$
declare
  v_row intake.inbound_webhooks;
begin
  perform intake.require_permission('inbound_webhook', 'delete');
  -- Its deliveries go by cascade; their bodies, kept apart without a foreign key (migration
  -- 000015), are deleted here first (the same rows row-level security lets the caller delete).
  delete from intake.inbound_webhook_delivery_bodies b
   using intake.inbound_webhook_deliveries d
   where d.inbound_webhook_id = delete_inbound_webhook.inbound_webhook_id
     and b.tenant = d.tenant and b.delivery_id = d.delivery_id and b.received_at = d.received_at;
  delete from intake.inbound_webhooks w where w.inbound_webhook_id = delete_inbound_webhook.inbound_webhook_id
  returning * into v_row;
  if not found then
    raise exception 'inbound webhook % not found', delete_inbound_webhook.inbound_webhook_id using errcode = 'P0002';
  end if;
  return v_row;
end
$$;
comment on function intake.delete_inbound_webhook(uuid) is
  'Deletes an inbound webhook with its credentials and its deliveries (needs inbound_webhook:delete). Returns the deleted row.';
grant execute on function intake.delete_inbound_webhook(uuid) to intake_user;
