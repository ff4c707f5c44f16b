--! Previous: sha1:6014caa6dd42fd70d9712071dacaa19bc5bff2de
--! Hash: sha1:361986ceb96a4c53a3e4894e568a177cd519b4b7
--! Message: index the deliveries whose body is still in their own columns, for retention's legacy cut

--! no-transaction
-- Retention cuts, in place and in bounded batches, the bodies of deliveries recorded before
-- 000015 (body_size null: the body in the row's own columns). This partial index finds the oldest
-- of them without reading the whole table each batch; a row leaves it once cut (body_cut_at).
-- New rows never enter it. Built concurrently (its own migration: no transaction), so receivers
-- of the previous release keep recording while it builds.
create index concurrently if not exists deliveries_legacy_body_idx
  on intake.inbound_webhook_deliveries (received_at)
  where body_size is null and body_cut_at is null;
