-- InboundWebhookDelivery.bodySha256 in GraphQL: the SHA-256 of the body as received, in hex
-- (the bytea column is hidden); kept after retention cuts the body.
create or replace function intake.inbound_webhook_deliveries_body_sha256(d intake.inbound_webhook_deliveries) returns text
  language sql immutable
  set search_path = pg_catalog
  as $$
  select encode(d.body_sha256, 'hex')
$$;
comment on function intake.inbound_webhook_deliveries_body_sha256(intake.inbound_webhook_deliveries) is
  'SHA-256 of the request body as received, hex; null for rows recorded before it was kept.';
grant execute on function intake.inbound_webhook_deliveries_body_sha256(intake.inbound_webhook_deliveries) to intake_user, intake_app;
