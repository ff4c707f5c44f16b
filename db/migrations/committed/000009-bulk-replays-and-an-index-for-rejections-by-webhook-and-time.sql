--! Previous: sha1:b2cd205ce231808447543eb2781fa618411d07fc
--! Hash: sha1:3084ea01b7bf4eb5b946b4a0d23e5903f097083d
--! Message: bulk replays, and an index for a webhook's auth rejections in time order

-- Bulk replay (issue 11): "replay the N deliveries matching this filter" as one row per run. The
-- row records the filter (the semantics of the delivery log's condition; null = any), the
-- cut-off (only deliveries received before the start are taken, so the replays a run makes are
-- never picked up by it), the total counted at the start, and progress. A graphile-worker job
-- replays the next chunk in (received_at, delivery_id) order and moves the keyset position
-- (last_received_at, last_delivery_id) in the same transaction, so a retried job resumes after
-- the last committed chunk and never replays an original twice. Same rules as 000001: tenant
-- first in every key, composite foreign keys, RLS with the policy written before the grants.

create table intake.bulk_replays (
  tenant uuid not null references psa.tenants on delete cascade,
  bulk_replay_id uuid not null default gen_random_uuid(),
  -- the filter; null means any
  inbound_webhook_id uuid,
  dispatch_status text check (dispatch_status in ('pending', 'dispatched', 'duplicate', 'failed')),
  is_test boolean,
  is_replay boolean,
  received_from timestamptz,
  received_before timestamptz,
  -- only deliveries received before this (the start's transaction time) are replayed
  cutoff_at timestamptz not null,
  total int not null check (total >= 0),
  -- originals handled so far (replayed, or failed: could not be replayed)
  processed int not null default 0,
  failed int not null default 0,
  status text not null default 'running' check (status in ('running', 'finished', 'failed')),
  error_message text,
  -- the keyset position: the last original handled
  last_received_at timestamptz,
  last_delivery_id uuid,
  started_by uuid,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  primary key (tenant, bulk_replay_id),
  -- the webhook's deliveries go with it, and so does a run over them
  foreign key (tenant, inbound_webhook_id) references intake.inbound_webhooks (tenant, inbound_webhook_id) on delete cascade,
  foreign key (tenant, started_by) references psa.users (tenant, user_id) on delete set null (started_by),
  constraint bulk_replays_progress check (processed between 0 and total and failed between 0 and processed),
  constraint bulk_replays_finished check ((status = 'running') = (finished_at is null)),
  constraint bulk_replays_failed_has_error check (status <> 'failed' or error_message is not null)
);
comment on table intake.bulk_replays is
  'A bulk replay: every delivery matching a filter and received before cutoff_at, replayed by a job in chunks; total, processed and failed show its progress.';
-- the UI's "bulk replays, newest first"
create index bulk_replays_started_idx on intake.bulk_replays (tenant, started_at desc, bulk_replay_id desc);
-- foreign keys that act on delete (000007's rule)
create index bulk_replays_webhook_idx on intake.bulk_replays (tenant, inbound_webhook_id) where inbound_webhook_id is not null;
create index bulk_replays_started_by_idx on intake.bulk_replays (tenant, started_by) where started_by is not null;

alter table intake.bulk_replays enable row level security;
create policy tenant_isolation on intake.bulk_replays
  using (tenant = intake.current_tenant()) with check (tenant = intake.current_tenant());
-- intake_user reads them with read and starts them (intake.start_bulk_replay) with replay; only
-- the worker (intake_app) moves their progress
create policy need_read on intake.bulk_replays as restrictive for select to intake_user
  using ((select intake.has_permission('inbound_webhook', 'read')));
create policy need_replay on intake.bulk_replays as restrictive for insert to intake_user
  with check ((select intake.has_permission('inbound_webhook', 'replay')));
grant select, insert on intake.bulk_replays to intake_user;
grant select, update on intake.bulk_replays to intake_app;

-- The auth-rejections view lists one webhook's rejections newest first. This index serves that
-- (and keyset pages by (received_at, rejection_id)); it also serves 000007's purpose, the
-- lookup when a webhook is deleted, so the index 000007 added for that alone goes.
create index auth_rejections_webhook_received_idx on intake.inbound_webhook_auth_rejections
  (tenant, inbound_webhook_id, received_at desc, rejection_id desc);
drop index if exists intake.auth_rejections_webhook_idx;
