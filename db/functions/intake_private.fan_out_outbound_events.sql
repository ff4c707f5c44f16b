-- The outbound_fanout job's work, in one transaction, for up to ~20 events of one tenant (the
-- sweeper's chunk): a delivery row for each active subscription of the tenant whose event types
-- match each event, and their outbound_deliver jobs in one add_jobs call (so 1,000 subscriptions
-- cost one call). Each job carries the ids of up to p_batch deliveries, of one event or of
-- several (a job per event's deliveries meant half-empty jobs when subscriptions are few: 10
-- subscriptions, 10 deliveries a job; bench/README.md). A delivery's retries are jobs of its
-- own (enqueue_outbound_delivery). Only events of p_tenant are taken (an id of another tenant is
-- not found), so every job it adds holds ids of p_tenant only. Events are locked in id order,
-- so two runs of one job (or two jobs sharing an event) wait for each other instead of
-- deadlocking; a run that finds an event fanned out (or its deliveries already there: unique
-- (tenant, event_id, subscription_id)) adds nothing for it. Returns the number of deliveries made.
create or replace function intake_private.fan_out_outbound_events(p_tenant uuid, p_event_ids uuid[], p_batch int default 20) returns int
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_count int;
begin
  with locked as (
    select e.event_id, e.event_type from intake.outbound_events e
     where e.tenant = p_tenant and e.event_id = any(p_event_ids) and e.fanned_out_at is null
     order by e.event_id
       for update
  ),
  made as (
    insert into intake.outbound_deliveries (tenant, event_id, subscription_id, event_type, next_attempt_at)
    select p_tenant, l.event_id, s.subscription_id, l.event_type, now()
      from locked l
      join intake.outbound_subscriptions s
        on s.tenant = p_tenant and s.is_active and intake_private.outbound_event_matches(s.event_types, l.event_type)
    on conflict (tenant, event_id, subscription_id) do nothing
    returning delivery_id, event_id
  ),
  batches as (
    select (row_number() over (order by m.event_id, m.delivery_id) - 1) / greatest(p_batch, 1) as batch, m.delivery_id from made m
  ),
  jobs as (
    select graphile_worker.add_jobs(array(
             select row('outbound_deliver', json_build_object('tenant', p_tenant, 'delivery_ids', array_agg(b.delivery_id)),
                        null, now(), 25, null, null, null)::graphile_worker.job_spec
               from batches b group by b.batch order by b.batch))
     where exists (select 1 from made)
  ),
  marked as (
    update intake.outbound_events e
       set fanned_out_at = now(),
           delivery_count = (select count(*) from made m where m.event_id = e.event_id)
      from locked l
     where e.tenant = p_tenant and e.event_id = l.event_id
     returning 1
  )
  select (select count(*) from made)::int + 0 * (select count(*) from jobs) + 0 * (select count(*) from marked) into v_count;
  return v_count;
end
$$;
comment on function intake_private.fan_out_outbound_events(uuid, uuid[], int) is
  'Makes the deliveries of some outbound events of one tenant (one per matching active subscription) and adds their jobs (up to p_batch deliveries each, across events) in one add_jobs call.';
