-- Retention (the outbound_prune cron task, in bounded batches so no statement holds locks for
-- long): deletes up to p_batch attempts older than p_attempt_days, then up to p_batch events
-- older than p_event_days that have nothing pending (their deliveries and attempts go with them).
-- 0 days keeps that kind forever. Returns {attempts, events} deleted by this call; the task
-- calls it again while a batch was full.
create or replace function intake_private.prune_outbound(p_event_days int, p_attempt_days int, p_batch int default 1000)
  returns jsonb
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_attempts int := 0;
  v_events int := 0;
begin
  if p_attempt_days > 0 then
    delete from intake.outbound_attempts a
     using (select tenant, attempt_id from intake.outbound_attempts
             where started_at < now() - make_interval(days => p_attempt_days)
             order by started_at limit p_batch) old
     where a.tenant = old.tenant and a.attempt_id = old.attempt_id;
    get diagnostics v_attempts = row_count;
  end if;
  if p_event_days > 0 then
    delete from intake.outbound_events e
     using (select x.tenant, x.event_id from intake.outbound_events x
             where x.created_at < now() - make_interval(days => p_event_days)
               and x.fanned_out_at is not null
               and not exists (select 1 from intake.outbound_deliveries d
                                where d.tenant = x.tenant and d.event_id = x.event_id and d.status = 'pending')
             order by x.created_at limit p_batch) old
     where e.tenant = old.tenant and e.event_id = old.event_id;
    get diagnostics v_events = row_count;
  end if;
  return jsonb_build_object('attempts', v_attempts, 'events', v_events);
end
$$;
comment on function intake_private.prune_outbound(int, int, int) is
  'Deletes one bounded batch of outbound attempts and events past their retention (0 days = keep); returns how many of each.';
