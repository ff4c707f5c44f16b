-- "What is failing and why" for a DBA, one row per subscription with trouble (failing now, or
-- disabled by Intake, or with failed deliveries): select * from intake.outbound_failing;
-- security_invoker, so under intake_user it shows only what row-level security allows.
create or replace view intake.outbound_failing with (security_invoker = true) as
  select s.tenant, s.subscription_id, s.url, s.is_active, s.failing_since, s.auto_disabled_at, s.disabled_reason,
         count(*) filter (where d.status = 'pending') as pending_deliveries,
         count(*) filter (where d.status = 'failed') as failed_deliveries,
         min(d.next_attempt_at) filter (where d.status = 'pending') as next_attempt_at,
         (array_agg(d.last_error order by d.last_attempt_at desc nulls last) filter (where d.last_error is not null))[1] as last_error,
         (array_agg(d.last_response_status order by d.last_attempt_at desc nulls last) filter (where d.last_attempt_at is not null))[1] as last_response_status,
         max(d.last_attempt_at) as last_attempt_at
    from intake.outbound_subscriptions s
    left join intake.outbound_deliveries d
      on d.tenant = s.tenant and d.subscription_id = s.subscription_id and d.status in ('pending', 'failed')
   where s.failing_since is not null or s.auto_disabled_at is not null or d.status = 'failed'
   group by s.tenant, s.subscription_id;
comment on view intake.outbound_failing is
  'Outbound subscriptions in trouble: failing since, disabled by Intake and why, pending and failed deliveries, the last error and status.';
