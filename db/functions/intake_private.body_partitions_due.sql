-- The day partitions of intake.inbound_webhook_delivery_bodies that body retention may drop:
-- those whose every row is older than p_days days (their UTC day ended at least p_days days
-- ago), oldest first, each with the planner's row estimate (pg_class.reltuples; 0 before the
-- first analyze). The one rule of "due": intake_private.drop_body_partition drops from this
-- list, and the prune_bodies task reports its rows (worker/tasks/body_retention.ts).
create or replace function intake_private.body_partitions_due(p_days int)
  returns table (partition_name text, day date, rows_estimate float8)
  language sql stable
  set search_path = pg_catalog
  as $$
  select c.relname::text, to_date(substring(c.relname from '_p(\d{8})$'), 'YYYYMMDD'), greatest(c.reltuples, 0)::float8
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
   where i.inhparent = 'intake.inbound_webhook_delivery_bodies'::regclass
     and c.relname ~ '^inbound_webhook_delivery_bodies_p\d{8}$'
     and to_date(substring(c.relname from '_p(\d{8})$'), 'YYYYMMDD') + 1
         <= ((now() - make_interval(days => p_days)) at time zone 'UTC')::date
   order by 2
$$;
comment on function intake_private.body_partitions_due(int) is
  'The delivery-body day partitions past p_days days of retention, oldest first, with their row estimates.';
