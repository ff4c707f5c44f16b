--! Previous: sha1:8b2406e6b39bbabbdd09df334032a751d60b22b1
--! Hash: sha1:6014caa6dd42fd70d9712071dacaa19bc5bff2de
--! Message: delivery bodies and headers apart, in a table partitioned by day, so retention drops whole days

-- Retention (issue 15, bench/README.md "Retention at scale"): request bodies and headers are kept
-- whole INTAKE_BODY_RETENTION_DAYS, then go. Cutting them in place (an UPDATE per delivery) ran at
-- ~715 rows/s, bloated every index and cost the receiver 39 % while it ran; dropping a day's
-- partition took 0.29 s for 10 days. So a delivery's body and headers live in
-- intake.inbound_webhook_delivery_bodies, partitioned by day (UTC) on the receive time, and
-- retention drops whole partitions. What must outlive the body stays on the delivery row: status,
-- outcome, idempotency key and its dedupe index, the replay digest, and, written by the receiver
-- in the same insert, the body's size, SHA-256 and a fixed-size head.
--
-- Additive only: receivers of the previous release keep writing the old columns
-- (request_headers, request_body, request_body_text of inbound_webhook_deliveries) until they are
-- replaced; every reader falls back to them for a row whose body_size is null. Those legacy rows
-- are cut in place, in bounded batches, by the same cron task (body_cut_at).

alter table intake.inbound_webhook_deliveries
  add column body_size int,
  add column body_sha256 bytea,
  add column body_head text,
  add column body_cut_at timestamptz;
comment on column intake.inbound_webhook_deliveries.body_size is
  'Bytes of the request body as received. Null: recorded before bodies moved apart (the body is in request_body / request_body_text here).';
comment on column intake.inbound_webhook_deliveries.body_sha256 is
  'SHA-256 of the request body as received; kept after the body is cut.';
comment on column intake.inbound_webhook_deliveries.body_head is
  'The first 256 characters of the request body text; kept after the body is cut.';
comment on column intake.inbound_webhook_deliveries.body_cut_at is
  'When retention cut a body kept in this row''s own (legacy) columns; bodies kept apart go with their day''s partition (intake_global.body_partition_cuts).';

-- Partitioned by day on received_at (the partition key must be in the primary key). No foreign
-- key to the delivery: its check would be one more probe and row lock per delivery on the
-- receiver's path; a webhook's deletion deletes its bodies (intake.delete_inbound_webhook), and
-- anything else left behind goes with its day.
create table intake.inbound_webhook_delivery_bodies (
  tenant uuid not null,
  delivery_id uuid not null,
  received_at timestamptz not null,
  request_headers jsonb not null default '{}',
  request_body jsonb,
  -- the raw text when the body could not be parsed (malformed JSON)
  request_body_text text,
  primary key (tenant, delivery_id, received_at)
) partition by range (received_at);
comment on table intake.inbound_webhook_delivery_bodies is
  'The request body and headers of a delivery, kept INTAKE_BODY_RETENTION_DAYS: one partition per UTC day (…_pYYYYMMDD), dropped whole by retention; a DEFAULT partition catches any receive time outside the made days.';

-- The safety net: a delivery that got a 200 is never lost for want of a partition (a clock far
-- off, a day the cron task did not make). Making a day's partition later scans the default for
-- rows of that day (empty: nothing to read) and moves those it finds
-- (intake_private.make_body_partitions).
create table intake.inbound_webhook_delivery_bodies_default
  partition of intake.inbound_webhook_delivery_bodies default;

-- Yesterday to a week ahead, now; the cron task keeps a week ahead (make_body_partitions).
do $$
declare
  v_day date;
begin
  for v_day in select generate_series((now() at time zone 'UTC')::date - 1, (now() at time zone 'UTC')::date + 7, '1 day')::date loop
    execute format('create table %I.%I partition of intake.inbound_webhook_delivery_bodies for values from (%L) to (%L)',
      'intake', 'inbound_webhook_delivery_bodies_p' || to_char(v_day, 'YYYYMMDD'),
      v_day::timestamp at time zone 'UTC', (v_day + 1)::timestamp at time zone 'UTC');
  end loop;
end
$$;

-- Which days' bodies retention dropped, and when: what a reader shows for a body that is gone
-- ("body cut on <date>"). Belongs to no tenant (a Citus reference table); owner only.
create table intake_global.body_partition_cuts (
  day date primary key,
  cut_at timestamptz not null default now()
);
comment on table intake_global.body_partition_cuts is
  'The UTC days whose delivery bodies retention dropped (their partition of intake.inbound_webhook_delivery_bodies), and when.';
alter table intake_global.body_partition_cuts enable row level security;

-- Row-level security, the policy before the grant, as for the deliveries.
alter table intake.inbound_webhook_delivery_bodies enable row level security;
create policy tenant_isolation on intake.inbound_webhook_delivery_bodies
  using (tenant = intake.current_tenant()) with check (tenant = intake.current_tenant());
create policy need_read on intake.inbound_webhook_delivery_bodies as restrictive for select to intake_user
  using ((select intake.has_permission('inbound_webhook', 'read')));
-- intake_user writes bodies only with the replays (replay) and test requests (update) it records
create policy need_replay_or_update on intake.inbound_webhook_delivery_bodies as restrictive for insert to intake_user
  with check ((select intake.has_permission('inbound_webhook', 'replay')) or (select intake.has_permission('inbound_webhook', 'update')));
create policy need_delete on intake.inbound_webhook_delivery_bodies as restrictive for delete to intake_user
  using ((select intake.has_permission('inbound_webhook', 'delete')));

grant select, insert, delete on intake.inbound_webhook_delivery_bodies to intake_app, intake_user;
