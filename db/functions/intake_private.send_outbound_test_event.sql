-- "Send a test event" in p_tenant: an event marked is_test with a sample body, and one delivery
-- of it to this subscription only (whatever its event types), whose job is added here. Not a
-- trigger, so it may add the job itself. No permission check: intake.send_outbound_test_event()
-- checks it for the API; the CLI runs as the owner with the tenant named.
create or replace function intake_private.send_outbound_test_event(p_tenant uuid, p_subscription_id uuid, p_event_type text default null)
  returns intake.outbound_deliveries
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_type text := coalesce(nullif(p_event_type, ''), 'ticket.created');
  v_event uuid := gen_random_uuid();
  v_row intake.outbound_deliveries;
begin
  if v_type !~ '^[a-z_]+(\.[a-z_]+)+$' then
    raise exception 'eventType: not an event type: "%"', v_type using errcode = '22023';
  end if;
  if not exists (select 1 from intake.outbound_subscriptions s
                  where s.tenant = p_tenant and s.subscription_id = p_subscription_id) then
    raise exception 'outbound subscription % not found', p_subscription_id using errcode = 'P0002';
  end if;
  insert into intake.outbound_events (tenant, event_id, event_type, payload, is_test, fanout_enqueued_at, fanned_out_at, delivery_count)
  values (p_tenant, v_event, v_type,
          jsonb_build_object('type', v_type,
                             'timestamp', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                             'data', jsonb_build_object('id', 'test', 'entity', split_part(v_type, '.', 1), 'version', 0, 'test', true,
                                                        'object', jsonb_build_object('note', 'A test event sent from Intake'))),
          true, now(), now(), 1);
  insert into intake.outbound_deliveries (tenant, event_id, subscription_id, event_type, next_attempt_at)
  values (p_tenant, v_event, p_subscription_id, v_type, now())
  returning * into v_row;
  perform intake_private.enqueue_outbound_delivery(p_tenant, v_row.delivery_id, now(), 'test');
  return v_row;
end
$$;
comment on function intake_private.send_outbound_test_event(uuid, uuid, text) is
  'Sends a test event (default ticket.created, marked test) to one subscription of the tenant now; returns its delivery. Checks no permission.';
