-- Re-sends one delivery of p_tenant now, with the same webhook-id (the event id): it goes back
-- to pending and its job is moved to now (or added). Its attempts so far are kept; a success
-- ends it, a failure is scheduled on from there. No permission check: the API's
-- intake.retry_outbound_delivery() checks it, and the CLI runs as the owner with the tenant
-- named. Not executable by intake_user or intake_app.
create or replace function intake_private.retry_outbound_delivery(p_tenant uuid, p_delivery_id uuid)
  returns intake.outbound_deliveries
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_row intake.outbound_deliveries;
begin
  update intake.outbound_deliveries d
     set status = 'pending', next_attempt_at = now()
   where d.tenant = p_tenant and d.delivery_id = p_delivery_id
  returning * into v_row;
  if not found then
    raise exception 'outbound delivery % not found', p_delivery_id using errcode = 'P0002';
  end if;
  perform intake_private.enqueue_outbound_delivery(p_tenant, v_row.delivery_id, now(), 'manual');
  return v_row;
end
$$;
comment on function intake_private.retry_outbound_delivery(uuid, uuid) is
  'Re-sends an outbound delivery of the tenant now, same webhook-id; returns it, pending. Checks no permission (the owner''s; the API calls intake.retry_outbound_delivery).';
