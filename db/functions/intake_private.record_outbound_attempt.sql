-- What follows one attempt of an outbound delivery (worker/outbound/deliver.ts; called by
-- intake_private.record_outbound_attempts for a job's attempts in one statement): the attempt
-- row; the delivery moved on (succeeded, failed, or pending with its next attempt's job added
-- at p_delay_ms); and, for a real (not test) event, the subscription's health — a success ends
-- its failing streak, a 410 disables it, and so does failing without a success for
-- p_disable_after_hours. p_attempt: the outbound_attempts columns as JSON. p_status:
-- 'succeeded' | 'failed' | 'pending'.
create or replace function intake_private.record_outbound_attempt(
  p_tenant uuid, p_delivery_id uuid, p_attempt jsonb, p_status text, p_delay_ms double precision,
  p_is_test boolean, p_gone boolean, p_disable_after_hours int
) returns void
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_subscription uuid := (p_attempt->>'subscription_id')::uuid;
  v_started timestamptz := (p_attempt->>'started_at')::timestamptz;
  v_error text := p_attempt->>'error_message';
  v_next timestamptz := case when p_status = 'pending' then now() + make_interval(secs => p_delay_ms / 1000) end;
begin
  insert into intake.outbound_attempts (tenant, delivery_id, subscription_id, attempt_number, trigger, started_at, duration_ms,
    request_url, request_headers, response_status, response_headers, response_body, error_message, succeeded)
  values (p_tenant, p_delivery_id, v_subscription, (p_attempt->>'attempt_number')::int, p_attempt->>'trigger', v_started,
    (p_attempt->>'duration_ms')::int, p_attempt->>'request_url', p_attempt->'request_headers', (p_attempt->>'response_status')::int,
    nullif(p_attempt->'response_headers', 'null'), p_attempt->>'response_body', v_error, (p_attempt->>'succeeded')::boolean);

  update intake.outbound_deliveries d
     set status = p_status, attempt_count = d.attempt_count + 1, last_attempt_at = v_started,
         last_response_status = (p_attempt->>'response_status')::int,
         last_error = case when p_gone then v_error || ': the receiver said Gone; the subscription is disabled' else v_error end,
         next_attempt_at = v_next,
         succeeded_at = case when p_status = 'succeeded' then now() end
   where d.tenant = p_tenant and d.delivery_id = p_delivery_id;

  if p_status = 'pending' then
    perform intake_private.enqueue_outbound_delivery(p_tenant, p_delivery_id, v_next, 'scheduled');
  end if;

  if p_is_test then
    return; -- a test says nothing about the subscription's health
  end if;
  if p_status = 'succeeded' then
    update intake.outbound_subscriptions s set failing_since = null
     where s.tenant = p_tenant and s.subscription_id = v_subscription and s.failing_since is not null;
    return;
  end if;
  update intake.outbound_subscriptions s
     set failing_since = coalesce(s.failing_since, v_started),
         is_active = case when x.disable then false else s.is_active end,
         auto_disabled_at = case when x.disable then now() else s.auto_disabled_at end,
         disabled_reason = case when not x.disable then s.disabled_reason
                                when p_gone then 'the receiver answered 410 Gone'
                                else 'every attempt failed for ' || p_disable_after_hours || ' hours (since '
                                     || to_char(coalesce(s.failing_since, v_started) at time zone 'UTC', 'YYYY-MM-DD HH24:MI')
                                     || ' UTC); last: ' || left(coalesce(v_error, ''), 500) end,
         updated_at = case when x.disable then now() else s.updated_at end
    from (select s2.is_active and (p_gone or coalesce(s2.failing_since, v_started) <= now() - make_interval(hours => p_disable_after_hours)) as disable
            from intake.outbound_subscriptions s2 where s2.tenant = p_tenant and s2.subscription_id = v_subscription) x
   where s.tenant = p_tenant and s.subscription_id = v_subscription
     and (s.failing_since is null or x.disable);
end
$$;
comment on function intake_private.record_outbound_attempt(uuid, uuid, jsonb, text, double precision, boolean, boolean, int) is
  'Records one outbound attempt and what follows from it (the delivery''s next step, the subscription''s health) in one statement.';
