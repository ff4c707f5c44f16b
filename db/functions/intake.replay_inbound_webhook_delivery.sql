-- It took one argument before configuration.
drop function if exists intake.replay_inbound_webhook_delivery(uuid);

-- The API's form of intake.replay_delivery(): replays and returns the new delivery row. Strict,
-- so GraphQL's deliveryId stays required; configuration may be left out (the current one).
create or replace function intake.replay_inbound_webhook_delivery(delivery_id uuid, configuration intake.replay_configuration default 'current')
  returns intake.inbound_webhook_deliveries
  language plpgsql volatile strict
  set search_path = pg_catalog
  as $$
declare
  v_row intake.inbound_webhook_deliveries;
  v_id uuid;
begin
  v_id := intake.replay_delivery(replay_inbound_webhook_delivery.delivery_id, configuration);
  select * into v_row from intake.inbound_webhook_deliveries d where d.delivery_id = v_id;
  return intake.delivery_with_body(v_row);
end
$$;
comment on function intake.replay_inbound_webhook_delivery(uuid, intake.replay_configuration) is
  'Re-dispatches a delivery as a new delivery (needs inbound_webhook:replay) with the current configuration (default) or the one it was dispatched with, and returns it.';
grant execute on function intake.replay_inbound_webhook_delivery(uuid, intake.replay_configuration) to intake_user;
