-- InboundWebhookDelivery.request_body_text in GraphQL (a computed column; the row's own column is hidden,
-- graphql/smartTags.ts): read through intake.delivery_with_body, so rows whose body is kept apart
-- (migration 000015), rows recorded before, and rows whose body retention cut all answer alike.
create or replace function intake.inbound_webhook_deliveries_request_body_text(d intake.inbound_webhook_deliveries) returns text
  language sql stable
  set search_path = pg_catalog
  as $$
  select (intake.delivery_with_body(d)).request_body_text
$$;
comment on function intake.inbound_webhook_deliveries_request_body_text(intake.inbound_webhook_deliveries) is
  'The raw body text when it could not be parsed; once retention cut the body, what was kept of it (when, size, SHA-256, head).';
grant execute on function intake.inbound_webhook_deliveries_request_body_text(intake.inbound_webhook_deliveries) to intake_user, intake_app;
