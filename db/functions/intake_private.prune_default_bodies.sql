-- One bounded batch of body retention in the DEFAULT partition of
-- intake.inbound_webhook_delivery_bodies (bodies whose receive time fell outside the made days, a
-- clock far off): deletes at most p_limit of those older than p_days days, records their days as
-- cut, and returns how many. Rows a writer holds are skipped, not waited for.
create or replace function intake_private.prune_default_bodies(p_days int, p_limit int) returns int
  language sql volatile
  set search_path = pg_catalog
  as $$
  with old as (
    select b.tenant, b.delivery_id, b.received_at
      from intake.inbound_webhook_delivery_bodies_default b
     where b.received_at < now() - make_interval(days => p_days)
     limit p_limit
       for update skip locked
  ), gone as (
    delete from intake.inbound_webhook_delivery_bodies_default b
     using old
     where b.tenant = old.tenant and b.delivery_id = old.delivery_id and b.received_at = old.received_at
    returning b.received_at
  ), days as (
    insert into intake_global.body_partition_cuts (day, cut_at)
    select distinct (g.received_at at time zone 'UTC')::date, now() from gone g
    on conflict (day) do nothing
  )
  select count(*)::int from gone
$$;
comment on function intake_private.prune_default_bodies(int, int) is
  'Deletes at most p_limit bodies older than p_days days from the default partition of the delivery bodies, recording their days as cut; returns how many.';
