-- "Send a test event" (intake_private.send_outbound_test_event). Security definer: intake_user
-- may not write events or the queue; the permission (outbound_webhook:update) and tenant are
-- checked here.
create or replace function intake.send_outbound_test_event(subscription_id uuid, event_type text default null)
  returns intake.outbound_deliveries
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  return intake_private.send_outbound_test_event(
    intake_private.require_tenant_permission('outbound_webhook', 'update'),
    send_outbound_test_event.subscription_id, send_outbound_test_event.event_type);
end
$$;
comment on function intake.send_outbound_test_event(uuid, text) is
  'Sends a test event (default ticket.created, marked test) to one subscription now (needs outbound_webhook:update); returns its delivery.';
grant execute on function intake.send_outbound_test_event(uuid, text) to intake_user;
