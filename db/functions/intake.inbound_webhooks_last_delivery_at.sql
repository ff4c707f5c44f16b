-- InboundWebhook.lastDeliveryAt: when the webhook's newest delivery (of any kind: received,
-- test, replay, duplicate — the rows its delivery log lists) arrived; null when it has none.
-- deliveries_webhook_received_idx (tenant, inbound_webhook_id, received_at desc, …) answers it
-- with one index probe per webhook.
create or replace function intake.inbound_webhooks_last_delivery_at(w intake.inbound_webhooks) returns timestamptz
  language sql stable parallel safe
  set search_path = pg_catalog
  as $$
  select d.received_at
    from intake.inbound_webhook_deliveries d
   where d.tenant = w.tenant and d.inbound_webhook_id = w.inbound_webhook_id
   order by d.received_at desc
   limit 1
$$;
comment on function intake.inbound_webhooks_last_delivery_at(intake.inbound_webhooks) is
  'When the webhook''s newest delivery was received, or null when it has none.';
grant execute on function intake.inbound_webhooks_last_delivery_at(intake.inbound_webhooks) to intake_user, intake_app;
