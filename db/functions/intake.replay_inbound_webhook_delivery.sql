-- The API's form of intake.replay_delivery(): replays and returns the new delivery row.
create or replace function intake.replay_inbound_webhook_delivery(delivery_id uuid)
  returns intake.inbound_webhook_deliveries
  language plpgsql volatile strict
  set search_path = pg_catalog
  as $$
declare
  v_row intake.inbound_webhook_deliveries;
  v_id uuid;
begin
  v_id := intake.replay_delivery(replay_inbound_webhook_delivery.delivery_id);
  select * into v_row from intake.inbound_webhook_deliveries d where d.delivery_id = v_id;
  return v_row;
end
$$;
comment on function intake.replay_inbound_webhook_delivery(uuid) is
  'Re-dispatches a delivery against the current config as a new delivery (needs inbound_webhook:replay) and returns it.';
grant execute on function intake.replay_inbound_webhook_delivery(uuid) to intake_user;
