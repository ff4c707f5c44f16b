-- It took two arguments before p_batch (one job per delivery): drop that one where it was loaded.
drop function if exists intake_private.fan_out_outbound_event(uuid, uuid);
-- One event's fan-out: intake_private.fan_out_outbound_events with one id. Kept for the
-- outbound_fanout jobs of one event queued before the sweeper took events in chunks, and for
-- tests. (plpgsql, so that loading it before fan_out_outbound_events does not fail.)
create or replace function intake_private.fan_out_outbound_event(p_tenant uuid, p_event_id uuid, p_batch int default 20) returns int
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
begin
  return intake_private.fan_out_outbound_events(p_tenant, array[p_event_id], p_batch);
end
$$;
comment on function intake_private.fan_out_outbound_event(uuid, uuid, int) is
  'Makes the deliveries of one outbound event (fan_out_outbound_events with one id); returns how many.';
