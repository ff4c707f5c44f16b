-- InboundWebhookDelivery.bodyCutAt in GraphQL: when retention cut the delivery's body and
-- headers (null while they are kept), for rows whose body was kept apart too (their day's
-- partition dropped), which the row's own body_cut_at column does not record.
create or replace function intake.inbound_webhook_deliveries_body_cut_at(d intake.inbound_webhook_deliveries) returns timestamptz
  language sql stable
  set search_path = pg_catalog
  as $$
  select (intake.delivery_with_body(d)).body_cut_at
$$;
comment on function intake.inbound_webhook_deliveries_body_cut_at(intake.inbound_webhook_deliveries) is
  'When retention cut the request body and headers; null while they are kept (the size, SHA-256 and head stay).';
grant execute on function intake.inbound_webhook_deliveries_body_cut_at(intake.inbound_webhook_deliveries) to intake_user, intake_app;
