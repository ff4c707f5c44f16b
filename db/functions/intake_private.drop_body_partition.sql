-- One step of body retention: drops the oldest day partition of
-- intake.inbound_webhook_delivery_bodies whose every row is older than p_days days
-- (intake_private.body_partitions_due), records the day in intake_global.body_partition_cuts (what
-- readers show: "body cut on <date>"), and returns the partition's name; null when none is due.
-- The drop takes the parent's ACCESS EXCLUSIVE lock for a few milliseconds; while it waits for
-- it (behind transactions using the table), the receiver's inserts queue behind the drop, so
-- lock_timeout keeps that wait short: a drop that cannot get the lock within 200 ms fails (the
-- cron task logs it and the next run tries again). Called in a loop by the
-- prune_bodies cron task, one transaction per partition.
create or replace function intake_private.drop_body_partition(p_days int) returns text
  language plpgsql volatile
  set search_path = pg_catalog
  set lock_timeout = '200ms'
  as $$
declare
  v_name text;
  v_day date;
begin
  select d.partition_name, d.day into v_name, v_day
    from intake_private.body_partitions_due(p_days) d
   order by d.day
   limit 1;
  if v_name is null then
    return null;
  end if;
  execute format('drop table intake.%I', v_name);
  insert into intake_global.body_partition_cuts (day, cut_at) values (v_day, now())
  on conflict (day) do update set cut_at = excluded.cut_at;
  return v_name;
end
$$;
comment on function intake_private.drop_body_partition(int) is
  'Drops the oldest day partition of the delivery bodies past p_days days of retention and records its day as cut; returns its name, or null when none is due.';
