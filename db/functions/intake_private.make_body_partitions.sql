-- Makes the day partitions of intake.inbound_webhook_delivery_bodies (UTC days, named
-- inbound_webhook_delivery_bodies_pYYYYMMDD) from yesterday to p_days_ahead days ahead that do
-- not exist yet; returns how many it made. Run by `intake migrate` and by the daily
-- make_body_partitions cron task (worker/tasks/body_retention.ts), as the owner.
-- A day is made as a plain table and then attached (SHARE UPDATE EXCLUSIVE on the parent: the
-- receiver's inserts go on), with the rows the DEFAULT partition caught for that day moved into
-- it first in the same transaction (none, normally: attaching then scans an empty default).
-- lock_timeout: a lock it cannot get at once fails the call (the next run tries again) rather
-- than queueing the receiver's inserts behind it.
create or replace function intake_private.make_body_partitions(p_days_ahead int) returns int
  language plpgsql volatile
  set search_path = pg_catalog
  set lock_timeout = '2s'
  as $$
declare
  v_day date;
  v_name text;
  v_from timestamptz;
  v_to timestamptz;
  v_made int := 0;
begin
  for v_day in
    select generate_series((now() at time zone 'UTC')::date - 1, (now() at time zone 'UTC')::date + p_days_ahead, '1 day')::date
  loop
    v_name := 'inbound_webhook_delivery_bodies_p' || to_char(v_day, 'YYYYMMDD');
    continue when to_regclass(format('intake.%I', v_name)) is not null;
    v_from := v_day::timestamp at time zone 'UTC';
    v_to := (v_day + 1)::timestamp at time zone 'UTC';
    execute format('create table intake.%I (like intake.inbound_webhook_delivery_bodies including defaults)', v_name);
    -- lets the attach skip scanning the new table
    execute format('alter table intake.%I add constraint %I check (received_at >= %L and received_at < %L)',
                   v_name, v_name || '_range', v_from, v_to);
    execute format('insert into intake.%I select * from intake.inbound_webhook_delivery_bodies_default where received_at >= %L and received_at < %L',
                   v_name, v_from, v_to);
    execute format('delete from intake.inbound_webhook_delivery_bodies_default where received_at >= %L and received_at < %L', v_from, v_to);
    execute format('alter table intake.inbound_webhook_delivery_bodies attach partition intake.%I for values from (%L) to (%L)',
                   v_name, v_from, v_to);
    execute format('alter table intake.%I drop constraint %I', v_name, v_name || '_range');
    v_made := v_made + 1;
  end loop;
  return v_made;
end
$$;
comment on function intake_private.make_body_partitions(int) is
  'Makes the missing UTC-day partitions of the delivery bodies from yesterday to p_days_ahead days ahead (moving what the default partition caught for them); returns how many.';
