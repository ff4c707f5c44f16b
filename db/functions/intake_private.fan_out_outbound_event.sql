-- It took two arguments before p_batch (one job per delivery): drop that one where it was loaded.
drop function if exists intake_private.fan_out_outbound_event(uuid, uuid);
-- The outbound_fanout job's work, in one transaction: a delivery row for each active
-- subscription of the event's tenant whose event types match, and their outbound_deliver jobs
-- in one add_jobs call (so 1,000 subscriptions cost one call). Each job carries the ids of up to
-- p_batch deliveries (50 jobs for 1,000 subscriptions), which it sends at once and records in
-- one statement: a job per delivery spent more on the queue and its round trips than on HTTP
-- (bench/README.md). A delivery's retries are jobs of its own (enqueue_outbound_delivery). A
-- job that runs again finds the event fanned out (or its deliveries already there: unique
-- (tenant, event_id, subscription_id)) and adds nothing. Returns the number of deliveries made.
create or replace function intake_private.fan_out_outbound_event(p_tenant uuid, p_event_id uuid, p_batch int default 20) returns int
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_event intake.outbound_events;
  v_count int;
begin
  select * into v_event from intake.outbound_events e
   where e.tenant = p_tenant and e.event_id = p_event_id
     for update;
  if not found or v_event.fanned_out_at is not null then
    return 0;
  end if;
  with made as (
    insert into intake.outbound_deliveries (tenant, event_id, subscription_id, event_type, next_attempt_at)
    select p_tenant, p_event_id, s.subscription_id, v_event.event_type, now()
      from intake.outbound_subscriptions s
     where s.tenant = p_tenant and s.is_active
       and intake_private.outbound_event_matches(s.event_types, v_event.event_type)
    on conflict (tenant, event_id, subscription_id) do nothing
    returning delivery_id
  ),
  batches as (
    select (row_number() over () - 1) / greatest(p_batch, 1) as batch, m.delivery_id from made m
  ),
  jobs as (
    select graphile_worker.add_jobs(array(
             select row('outbound_deliver', json_build_object('tenant', p_tenant, 'delivery_ids', array_agg(b.delivery_id)),
                        null, now(), 25, null, null, null)::graphile_worker.job_spec
               from batches b group by b.batch order by b.batch))
     where exists (select 1 from made)
  )
  select (select count(*) from made)::int + 0 * (select count(*) from jobs) into v_count;
  update intake.outbound_events e set fanned_out_at = now(), delivery_count = v_count
   where e.tenant = p_tenant and e.event_id = p_event_id;
  return v_count;
end
$$;
comment on function intake_private.fan_out_outbound_event(uuid, uuid, int) is
  'Makes the deliveries of an outbound event (one per matching active subscription) and adds their jobs (up to p_batch deliveries each) in one add_jobs call.';
