-- It took only p_limit before p_per_job (one job per event): drop that one where it was loaded.
drop function if exists intake_private.enqueue_outbound_fanouts(int);
-- The sweeper's step (worker/outbound/sweeper.ts calls it every INTAKE_OUTBOUND_SWEEP_MS): for
-- up to p_limit events no fan-out job was added for yet, oldest first, adds one outbound_fanout
-- job per up to p_per_job events of one tenant (payload {tenant, event_ids}, keyed by its first
-- event) in one add_jobs call and marks them, in one transaction. A job per event cost a job
-- fetch, a transaction and an add_jobs per event (bench/README.md). Events of a tenant with no
-- active subscription matching them are marked without a job. The triggers that write events
-- may not call add_job (design rule 3: on Citus a trigger on a distributed table cannot write
-- the coordinator's queue), so this is how every committed event gets its job: an event whose
-- transaction commits after this one read the table is still unmarked, and the next sweep takes
-- it. One sweeper at a time (a transaction-scoped advisory lock; another finds it held and
-- returns 0). Returns how many events it marked.
create or replace function intake_private.enqueue_outbound_fanouts(p_limit int default 500, p_per_job int default 20) returns int
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_marked int;
begin
  if not pg_try_advisory_xact_lock(hashtextextended('intake-outbound-sweep', 0)) then
    return 0;
  end if;
  with batch as (
    select e.tenant, e.event_id, e.created_at,
           exists (select 1 from intake.outbound_subscriptions s
                    where s.tenant = e.tenant and s.is_active
                      and intake_private.outbound_event_matches(s.event_types, e.event_type)) as wanted
      from intake.outbound_events e
     where e.fanout_enqueued_at is null
     order by e.created_at
     limit p_limit
  ),
  -- the wanted events in chunks of up to p_per_job per tenant, oldest first
  chunks as (
    select b.tenant, (row_number() over (partition by b.tenant order by b.created_at, b.event_id) - 1) / greatest(p_per_job, 1) as chunk,
           b.event_id, b.created_at
      from batch b where b.wanted
  ),
  jobs as (
    select graphile_worker.add_jobs(array(
             select row('outbound_fanout',
                        json_build_object('tenant', c.tenant, 'event_ids', array_agg(c.event_id order by c.created_at, c.event_id)),
                        null, now(), 25, 'outbound_fanout:' || (array_agg(c.event_id order by c.created_at, c.event_id))[1], null, null
                       )::graphile_worker.job_spec
               from chunks c group by c.tenant, c.chunk order by min(c.created_at)))
     where exists (select 1 from batch b where b.wanted)
  ),
  marked as (
    update intake.outbound_events e
       set fanout_enqueued_at = now(),
           -- nobody to deliver to: the event is done
           fanned_out_at = case when b.wanted then null else now() end,
           delivery_count = case when b.wanted then null else 0 end
      from batch b
     where e.tenant = b.tenant and e.event_id = b.event_id
     returning 1
  )
  select (select count(*) from marked)::int + 0 * (select count(*) from jobs) into v_marked;
  return v_marked;
end
$$;
comment on function intake_private.enqueue_outbound_fanouts(int, int) is
  'Adds the outbound_fanout jobs (one per up to p_per_job events of a tenant) of up to p_limit events that have none yet (the sweeper), in one add_jobs call; returns how many events it marked.';
