-- Re-sends one delivery now, with the same webhook-id (intake_private.retry_outbound_delivery).
-- Security definer for the queue; needs outbound_webhook:replay in the current tenant.
create or replace function intake.retry_outbound_delivery(delivery_id uuid)
  returns intake.outbound_deliveries
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  return intake_private.retry_outbound_delivery(
    intake_private.require_tenant_permission('outbound_webhook', 'replay'), retry_outbound_delivery.delivery_id);
end
$$;
comment on function intake.retry_outbound_delivery(uuid) is
  'Re-sends an outbound delivery now, same webhook-id (needs outbound_webhook:replay); returns it, pending.';
grant execute on function intake.retry_outbound_delivery(uuid) to intake_user;
