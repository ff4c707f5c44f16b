-- The attempts of one outbound_deliver job, recorded in one statement (one round trip, one
-- transaction): p_attempts is an array of {delivery_id, status, delay_ms, is_test, gone, attempt}.
-- When every attempt succeeded (the common case) they are written set-wise: one insert of the
-- attempts, one update of the deliveries, one of the subscriptions whose failing streak ends —
-- what intake_private.record_outbound_attempt does for a success, for all of them at once (a
-- call per attempt cost more than the HTTP of a batch: bench/README.md). Otherwise each goes
-- through record_outbound_attempt in array order. Every row is p_tenant's: the deliveries are
-- matched by (p_tenant, delivery_id), and the attempts' foreign key is (tenant, delivery_id).
create or replace function intake_private.record_outbound_attempts(p_tenant uuid, p_attempts jsonb, p_disable_after_hours int)
  returns int
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_item jsonb;
  v_n int := 0;
begin
  if not exists (select 1 from jsonb_array_elements(p_attempts) x (item)
                  where x.item->>'status' is distinct from 'succeeded' or (x.item->>'gone')::boolean) then
    insert into intake.outbound_attempts (tenant, delivery_id, subscription_id, attempt_number, trigger, started_at, duration_ms,
      request_url, request_headers, response_status, response_headers, response_body, error_message, succeeded)
    select p_tenant, (x.item->>'delivery_id')::uuid, (a->>'subscription_id')::uuid, (a->>'attempt_number')::int, a->>'trigger',
           (a->>'started_at')::timestamptz, (a->>'duration_ms')::int, a->>'request_url', a->'request_headers',
           (a->>'response_status')::int, nullif(a->'response_headers', 'null'), a->>'response_body', a->>'error_message',
           (a->>'succeeded')::boolean
      from jsonb_array_elements(p_attempts) with ordinality x (item, n), lateral (select x.item->'attempt' as a) y
     order by x.n;
    get diagnostics v_n = row_count;
    update intake.outbound_deliveries d
       set status = 'succeeded', attempt_count = d.attempt_count + 1, last_attempt_at = (a->>'started_at')::timestamptz,
           last_response_status = (a->>'response_status')::int, last_error = a->>'error_message',
           next_attempt_at = null, succeeded_at = now()
      from jsonb_array_elements(p_attempts) x (item), lateral (select x.item->'attempt' as a) y
     where d.tenant = p_tenant and d.delivery_id = (x.item->>'delivery_id')::uuid;
    -- a success ends the subscription's failing streak (a test says nothing about its health)
    update intake.outbound_subscriptions s set failing_since = null
     where s.tenant = p_tenant and s.failing_since is not null
       and s.subscription_id in (select (x.item->'attempt'->>'subscription_id')::uuid from jsonb_array_elements(p_attempts) x (item)
                                  where not (x.item->>'is_test')::boolean);
    return v_n;
  end if;
  for v_item in select * from jsonb_array_elements(p_attempts) loop
    perform intake_private.record_outbound_attempt(p_tenant, (v_item->>'delivery_id')::uuid, v_item->'attempt', v_item->>'status',
      (v_item->>'delay_ms')::double precision, (v_item->>'is_test')::boolean, (v_item->>'gone')::boolean, p_disable_after_hours);
    v_n := v_n + 1;
  end loop;
  return v_n;
end
$$;
comment on function intake_private.record_outbound_attempts(uuid, jsonb, int) is
  'Records the attempts of one outbound_deliver job in one statement (set-wise when all succeeded, else each through record_outbound_attempt); returns how many.';
