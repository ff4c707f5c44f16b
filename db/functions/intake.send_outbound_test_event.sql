-- "Send a test event": an event marked is_test with a sample body, and one delivery of it to
-- this subscription only (whatever its event types), whose job is added here. Not a trigger, so
-- it may add the job itself. Security definer: intake_user may not write events or the queue;
-- the permission (outbound_webhook:update) and tenant are checked here.
create or replace function intake.send_outbound_test_event(subscription_id uuid, event_type text default null)
  returns intake.outbound_deliveries
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_tenant uuid := intake_private.require_tenant_permission('outbound_webhook', 'update');
  v_type text := coalesce(nullif(send_outbound_test_event.event_type, ''), 'ticket.created');
  v_event uuid := gen_random_uuid();
  v_row intake.outbound_deliveries;
begin
  if v_type !~ '^[a-z_]+(\.[a-z_]+)+$' then
    raise exception 'eventType: not an event type: "%"', v_type using errcode = '22023';
  end if;
  if not exists (select 1 from intake.outbound_subscriptions s
                  where s.tenant = v_tenant and s.subscription_id = send_outbound_test_event.subscription_id) then
    raise exception 'outbound subscription % not found', send_outbound_test_event.subscription_id using errcode = 'P0002';
  end if;
  insert into intake.outbound_events (tenant, event_id, event_type, payload, is_test, fanout_enqueued_at, fanned_out_at, delivery_count)
  values (v_tenant, v_event, v_type,
          jsonb_build_object('type', v_type,
                             'timestamp', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                             'data', jsonb_build_object('id', 'test', 'entity', split_part(v_type, '.', 1), 'version', 0, 'test', true,
                                                        'object', jsonb_build_object('note', 'A test event sent from Intake'))),
          true, now(), now(), 1);
  insert into intake.outbound_deliveries (tenant, event_id, subscription_id, event_type, next_attempt_at)
  values (v_tenant, v_event, send_outbound_test_event.subscription_id, v_type, now())
  returning * into v_row;
  perform intake_private.enqueue_outbound_delivery(v_tenant, v_row.delivery_id, now(), 'test');
  return v_row;
end
$$;
comment on function intake.send_outbound_test_event(uuid, text) is
  'Sends a test event (default ticket.created, marked test) to one subscription now (needs outbound_webhook:update); returns its delivery.';
grant execute on function intake.send_outbound_test_event(uuid, text) to intake_user;
