-- One bounded batch of auth-rejection retention: deletes at most p_limit rows whose last repeat
-- is older than p_days days, oldest first, and returns how many. Called in a loop by the
-- prune_auth_rejections cron task (worker/tasks/prune_auth_rejections.ts), one short
-- transaction per batch, so no lock is held for long and receivers writing rejections never
-- wait on it. Rows being written by a receiver at the same moment are skipped, not waited for.
create or replace function intake_private.prune_auth_rejections(p_days int, p_limit int) returns int
  language sql volatile
  set search_path = pg_catalog
  as $$
  with old as (
    select r.tenant, r.rejection_id
      from intake.inbound_webhook_auth_rejections r
     where r.last_received_at < now() - make_interval(days => p_days)
     order by r.last_received_at
     limit p_limit
       for update skip locked
  ), gone as (
    delete from intake.inbound_webhook_auth_rejections r
     using old
     where r.tenant = old.tenant and r.rejection_id = old.rejection_id
    returning 1
  )
  select count(*)::int from gone
$$;
comment on function intake_private.prune_auth_rejections(int, int) is
  'Deletes at most p_limit auth rejections whose last repeat is older than p_days days; returns how many.';
