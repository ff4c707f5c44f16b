-- Each delivery not yet dispatched, beside the graphile-worker job that will dispatch it: "what is
-- stuck and why". That is its own dispatch_delivery job when it has one (a retry's, a replay's,
-- a test delivery's), otherwise its webhook's queued dispatch_webhook job, keyed
-- 'drain:<webhook id>'. The job columns are null when neither is queued: a drain of the webhook is
-- running, or an unkeyed job added beside one will take the delivery.
-- A function (read by the view intake.undispatched_deliveries) rather than a view over
-- graphile_worker.jobs, so that graphile-worker's own migrations never trip on our dependency.
create or replace function intake_private.undispatched_deliveries()
  returns table (
    tenant uuid,
    delivery_id uuid,
    inbound_webhook_id uuid,
    webhook_slug text,
    received_at timestamptz,
    retry_count int,
    error_message text,
    job_id bigint,
    job_queue text,
    attempts int,
    max_attempts int,
    run_at timestamptz,
    locked_at timestamptz,
    locked_by text,
    last_error text
  )
  language plpgsql stable
  set search_path = pg_catalog
  as $$
begin
  return query
  select d.tenant, d.delivery_id, d.inbound_webhook_id, w.slug, d.received_at, d.retry_count, d.error_message,
         j.id, j.queue_name, j.attempts::int, j.max_attempts::int, j.run_at, j.locked_at, j.locked_by, j.last_error
    from intake.inbound_webhook_deliveries d
    join intake.inbound_webhooks w on w.tenant = d.tenant and w.inbound_webhook_id = d.inbound_webhook_id
    left join lateral (
      select * from graphile_worker.jobs j
       where j.key in ('dispatch:' || d.delivery_id::text, 'drain:' || d.inbound_webhook_id::text)
       order by j.key like 'dispatch:%' desc
       limit 1
    ) j on true
   where d.dispatch_status = 'pending'
   order by d.received_at;
end
$$;
comment on function intake_private.undispatched_deliveries() is
  'Pending deliveries with the job that will dispatch them (attempts, run_at, lock, last error); read through the view intake.undispatched_deliveries.';
