-- The attempts of one outbound_deliver job, recorded in one statement (one round trip, one
-- transaction): p_attempts is an array of {delivery_id, status, delay_ms, is_test, gone, attempt}
-- for intake_private.record_outbound_attempt, applied in array order.
create or replace function intake_private.record_outbound_attempts(p_tenant uuid, p_attempts jsonb, p_disable_after_hours int)
  returns int
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_item jsonb;
  v_n int := 0;
begin
  for v_item in select * from jsonb_array_elements(p_attempts) loop
    perform intake_private.record_outbound_attempt(p_tenant, (v_item->>'delivery_id')::uuid, v_item->'attempt', v_item->>'status',
      (v_item->>'delay_ms')::double precision, (v_item->>'is_test')::boolean, (v_item->>'gone')::boolean, p_disable_after_hours);
    v_n := v_n + 1;
  end loop;
  return v_n;
end
$$;
comment on function intake_private.record_outbound_attempts(uuid, jsonb, int) is
  'Records the attempts of one outbound_deliver job (each through record_outbound_attempt) in one statement; returns how many.';
