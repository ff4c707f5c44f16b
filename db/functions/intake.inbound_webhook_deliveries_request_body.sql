-- InboundWebhookDelivery.request_body in GraphQL (a computed column; the row's own column is hidden,
-- graphql/smartTags.ts): read through intake.delivery_with_body, so rows whose body is kept apart
-- (migration 000015), rows recorded before, and rows whose body retention cut all answer alike.
create or replace function intake.inbound_webhook_deliveries_request_body(d intake.inbound_webhook_deliveries) returns jsonb
  language sql stable
  set search_path = pg_catalog
  as $$
  select (intake.delivery_with_body(d)).request_body
$$;
comment on function intake.inbound_webhook_deliveries_request_body(intake.inbound_webhook_deliveries) is
  'The parsed request body, wherever kept; null when it could not be parsed or retention cut it.';
grant execute on function intake.inbound_webhook_deliveries_request_body(intake.inbound_webhook_deliveries) to intake_user, intake_app;
