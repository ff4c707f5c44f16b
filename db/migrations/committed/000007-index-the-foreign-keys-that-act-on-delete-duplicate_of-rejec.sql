--! Previous: sha1:390a5b1eb712cbf67dd4da5871e7c882f8a4a60a
--! Hash: sha1:371e43ebce5b5e8d0015682aec941f69c651349f
--! Message: index the foreign keys that act on delete: duplicate_of, rejections' webhook

-- Foreign keys that act when their target row is deleted get an index on their columns, or
-- every deleted target row costs a scan of the referencing table.
-- duplicate_of references the delivery a repeat answered with, on delete set null: deleting
-- deliveries (a webhook's deletion cascades to them; a retention purge) scanned the whole table
-- once per deleted row (deleting ~25,000 deliveries ran for minutes in the benchmark). Partial,
-- like deliveries_replayed_from_idx: only repeats set it, so an ordinary delivery adds nothing.
create index deliveries_duplicate_of_idx on intake.inbound_webhook_deliveries (tenant, duplicate_of)
  where duplicate_of is not null;
-- A rejection keeps its webhook id, set null when the webhook is deleted; rejections can pile
-- up under attack traffic, and deleting a webhook should not scan all of them.
create index auth_rejections_webhook_idx on intake.inbound_webhook_auth_rejections (tenant, inbound_webhook_id)
  where inbound_webhook_id is not null;
