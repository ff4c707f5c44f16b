-- Dispatch jobs used to run on 16 serial queues named by intake_private.dispatch_queue_name();
-- they now run in parallel and keep a webhook's order by draining it under a lock
-- (worker/dispatch.ts). Databases loaded before that still hold the function: drop it here,
-- the file that replaced its last use.
drop function if exists intake_private.dispatch_queue_name(uuid);
-- It took three arguments before p_run_at.
drop function if exists intake_private.enqueue_dispatch(uuid, uuid, uuid);

-- Enqueues a dispatch_delivery job for one delivery, in the caller's transaction: for a replay or
-- a test delivery, and for a delivery whose first attempt failed transiently inside a webhook's
-- drain (its retries, from p_run_at). The job carries ids only. First attempts of received
-- deliveries go through their webhook's dispatch_webhook job instead (receive_deliveries).
create or replace function intake_private.enqueue_dispatch(p_tenant uuid, p_delivery_id uuid, p_inbound_webhook_id uuid,
                                                           p_run_at timestamptz default null)
  returns void
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_received_at timestamptz;
begin
  -- Callable by intake_app and intake_user (through replay and test requests), so it only ever
  -- enqueues a pending delivery that exists, of the caller's tenant; its job_key makes a second
  -- call for the same delivery a no-op. Without a tenant set, p_tenant is taken on trust only
  -- from a caller that sees every tenant's rows anyway (a DBA's intake.replay_delivery() in psql).
  perform intake_private.require_caller_tenant(p_tenant, format('delivery %s', p_delivery_id));
  select d.received_at into v_received_at
    from intake.inbound_webhook_deliveries d
   where d.tenant = p_tenant and d.delivery_id = p_delivery_id
     and d.inbound_webhook_id = p_inbound_webhook_id and d.dispatch_status = 'pending';
  if not found then
    raise exception 'delivery % is not pending', p_delivery_id using errcode = '55000';
  end if;
  -- No queue: dispatch jobs run in parallel; the job that takes the webhook's drain lock
  -- dispatches its pending deliveries in arrival order. run_at is the arrival time (never in the
  -- future), as for the receiver's jobs, unless the caller sets a later one (a retry's backoff).
  perform graphile_worker.add_job(
    identifier => 'dispatch_delivery',
    payload => json_build_object('tenant', p_tenant, 'delivery_id', p_delivery_id),
    run_at => coalesce(p_run_at, least(v_received_at, now())),
    max_attempts => 8,
    job_key => 'dispatch:' || p_delivery_id::text,
    job_key_mode => 'preserve_run_at'
  );
end
$$;
comment on function intake_private.enqueue_dispatch(uuid, uuid, uuid, timestamptz) is
  'Adds the dispatch_delivery job for a delivery (same transaction as the caller).';
grant execute on function intake_private.enqueue_dispatch(uuid, uuid, uuid, timestamptz) to intake_app, intake_user;
