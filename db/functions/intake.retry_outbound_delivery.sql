-- Re-sends one delivery now, with the same webhook-id (the event id): it goes back to pending
-- and its job is moved to now (or added). Its attempts so far are kept; a success ends it, a
-- failure is scheduled on from there. Security definer for the queue; needs
-- outbound_webhook:replay in the current tenant.
create or replace function intake.retry_outbound_delivery(delivery_id uuid)
  returns intake.outbound_deliveries
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_tenant uuid := intake_private.require_tenant_permission('outbound_webhook', 'replay');
  v_row intake.outbound_deliveries;
begin
  update intake.outbound_deliveries d
     set status = 'pending', next_attempt_at = now()
   where d.tenant = v_tenant and d.delivery_id = retry_outbound_delivery.delivery_id
  returning * into v_row;
  if not found then
    raise exception 'outbound delivery % not found', retry_outbound_delivery.delivery_id using errcode = 'P0002';
  end if;
  perform intake_private.enqueue_outbound_delivery(v_tenant, v_row.delivery_id, now(), 'manual');
  return v_row;
end
$$;
comment on function intake.retry_outbound_delivery(uuid) is
  'Re-sends an outbound delivery now, same webhook-id (needs outbound_webhook:replay); returns it, pending.';
grant execute on function intake.retry_outbound_delivery(uuid) to intake_user;
