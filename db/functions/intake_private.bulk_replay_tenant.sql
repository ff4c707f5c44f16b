-- Whose deliveries a bulk replay (or its count) covers: the transaction's tenant (intake.tenant,
-- as every API request has), or — for a DBA in psql without one — the tenant of the webhook the
-- filter names. Never every tenant at once: without either it refuses.
create or replace function intake_private.bulk_replay_tenant(p_inbound_webhook_id uuid) returns uuid
  language plpgsql stable
  set search_path = pg_catalog
  as $$
declare
  v_tenant uuid := intake.current_tenant();
begin
  if v_tenant is null and p_inbound_webhook_id is not null then
    select w.tenant into v_tenant from intake.inbound_webhooks w where w.inbound_webhook_id = p_inbound_webhook_id;
    if not found then
      raise exception 'inbound webhook % not found', p_inbound_webhook_id using errcode = 'P0002';
    end if;
  end if;
  if v_tenant is null then
    raise exception 'no tenant: set intake.tenant, or name a webhook (inbound_webhook_id)' using errcode = '22023';
  end if;
  return v_tenant;
end
$$;
comment on function intake_private.bulk_replay_tenant(uuid) is
  'The tenant a bulk replay covers: intake.tenant, else the named webhook''s tenant; 22023 when neither is known.';
grant execute on function intake_private.bulk_replay_tenant(uuid) to intake_user, intake_app;
