-- Deletes an outbound subscription with its secrets, deliveries and attempts (foreign keys
-- cascade); its events stay (other subscriptions may have them). Runs as the caller.
create or replace function intake.delete_outbound_subscription(subscription_id uuid)
  returns intake.outbound_subscriptions
  language plpgsql volatile strict
  set search_path = pg_catalog
  as $$
declare
  v_row intake.outbound_subscriptions;
begin
  perform intake.require_permission('outbound_webhook', 'delete');
  delete from intake.outbound_subscriptions s where s.subscription_id = delete_outbound_subscription.subscription_id
  returning * into v_row;
  if not found then
    raise exception 'outbound subscription % not found', delete_outbound_subscription.subscription_id using errcode = 'P0002';
  end if;
  return v_row;
end
$$;
comment on function intake.delete_outbound_subscription(uuid) is
  'Deletes an outbound subscription with its secrets, deliveries and attempts (needs outbound_webhook:delete). Returns the deleted row.';
grant execute on function intake.delete_outbound_subscription(uuid) to intake_user;
