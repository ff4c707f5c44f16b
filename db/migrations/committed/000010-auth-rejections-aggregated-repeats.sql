--! Previous: sha1:3084ea01b7bf4eb5b946b4a0d23e5903f097083d
--! Hash: sha1:0db72690210caf1fba7bd15856980ff590669c63
--! Message: auth rejections: repeats aggregated into one row (repeat_count, last_received_at), pruned by age

-- The receiver writes rejections behind the answer, a batch at a time, and folds identical ones
-- (same tenant, webhook, slug, status, reason, address, user agent) into one row: a stranger's
-- flood costs a row per distinct rejection per batch, not a row per request. Rows whose last
-- repeat is older than INTAKE_REJECTION_RETENTION_DAYS (7) are deleted by the receiver.
alter table intake.inbound_webhook_auth_rejections
  add column repeat_count int not null default 1 check (repeat_count >= 1),
  add column last_received_at timestamptz;
update intake.inbound_webhook_auth_rejections set last_received_at = received_at;
alter table intake.inbound_webhook_auth_rejections
  alter column last_received_at set not null,
  alter column last_received_at set default now();
comment on column intake.inbound_webhook_auth_rejections.repeat_count is
  'How many identical rejections this row stands for, from received_at to last_received_at.';
comment on column intake.inbound_webhook_auth_rejections.last_received_at is
  'When the last of the repeats this row stands for arrived (received_at: the first).';
-- what pruning by age scans
create index auth_rejections_last_received_idx on intake.inbound_webhook_auth_rejections (last_received_at);
