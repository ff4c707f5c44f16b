--! Previous: sha1:e8f425a532293217c3c3961b6ec6402e79b2eaf2
--! Hash: sha1:744d98fe9f8502c9a5894b6b05c949a976e9b294
--! Message: an index on each webhook's pending deliveries in arrival order, for the dispatch drain

-- The dispatch drain (worker/dispatch.ts) reads one webhook's pending deliveries in arrival
-- order. Without this index it walks either every pending delivery of the tenant or the webhook's
-- whole history from its oldest row.
create index deliveries_webhook_pending_idx on intake.inbound_webhook_deliveries (tenant, inbound_webhook_id, received_at, delivery_id)
  where dispatch_status = 'pending';
