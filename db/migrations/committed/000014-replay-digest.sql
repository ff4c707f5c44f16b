--! Previous: sha1:58f9ae0c1dbd9774858ca371550def7e09e8275d
--! Hash: sha1:8b2406e6b39bbabbdd09df334032a751d60b22b1
--! Message: deliveries: the replay digest of a signed request, unique per webhook, kept as long as the delivery

-- A captured signed request must not be applied again, however late it is replayed. The
-- receiver stores, with each delivery whose signature covers a timestamp (and with
-- INTAKE_DEDUPE_UNTIMESTAMPED_REPLAYS, any HMAC-signed one), the SHA-256 of the signature that
-- matched (an HMAC over exactly what the sender signed). The same request again has the same
-- signature, and is answered as a duplicate of the first delivery for as long as that delivery
-- is kept: no window. A duplicate's own row has none (it stands for the first one).
alter table intake.inbound_webhook_deliveries add column replay_digest bytea;
comment on column intake.inbound_webhook_deliveries.replay_digest is
  'SHA-256 of the HMAC signature that verified this request (signatures that cover a timestamp, or any with INTAKE_DEDUPE_UNTIMESTAMPED_REPLAYS; null on duplicates, replays and tests): the same signed request again is a duplicate of this delivery.';
create unique index deliveries_replay_digest
  on intake.inbound_webhook_deliveries (tenant, inbound_webhook_id, replay_digest)
  where replay_digest is not null;
