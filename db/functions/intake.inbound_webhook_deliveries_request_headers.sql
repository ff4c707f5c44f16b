-- InboundWebhookDelivery.request_headers in GraphQL (a computed column; the row's own column is hidden,
-- graphql/smartTags.ts): read through intake.delivery_with_body, so rows whose body is kept apart
-- (migration 000015), rows recorded before, and rows whose body retention cut all answer alike.
create or replace function intake.inbound_webhook_deliveries_request_headers(d intake.inbound_webhook_deliveries) returns jsonb
  language sql stable
  set search_path = pg_catalog
  as $$
  select (intake.delivery_with_body(d)).request_headers
$$;
comment on function intake.inbound_webhook_deliveries_request_headers(intake.inbound_webhook_deliveries) is
  'The request headers (lower-cased names, credentials removed), wherever kept; {} once retention cut them.';
grant execute on function intake.inbound_webhook_deliveries_request_headers(intake.inbound_webhook_deliveries) to intake_user, intake_app;
