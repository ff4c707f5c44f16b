--! Previous: sha1:744d98fe9f8502c9a5894b6b05c949a976e9b294
--! Hash: sha1:390a5b1eb712cbf67dd4da5871e7c882f8a4a60a
--! Message: drop deliveries_pending_idx, covered by deliveries_webhook_pending_idx

-- deliveries_pending_idx (tenant, received_at) where pending is covered by 000005's
-- deliveries_webhook_pending_idx, a partial index on the same rows: every query for pending
-- deliveries either names the delivery (primary key) or reads them all. One index fewer is one
-- insert fewer in the receiver for every delivery, and one fewer update when it is dispatched.
drop index if exists intake.deliveries_pending_idx;
