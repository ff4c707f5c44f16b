-- Replaces a webhook's configuration. The caller has validated p_config with the zod schema
-- (core/webhookConfig.ts) and split it into columns: {name, slug, description, auth_type,
-- auth_config, idempotency_source, idempotency_window_seconds, handler_type, handler_config,
-- mapping_namespace, rate_limit_per_minute, is_active}. The auth type cannot change (the stored
-- secrets belong to it). Runs as the caller: row-level security decides which webhooks it sees.
create or replace function intake.update_inbound_webhook(p_inbound_webhook_id uuid, p_config jsonb)
  returns intake.inbound_webhooks
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_row intake.inbound_webhooks;
begin
  perform intake.require_permission('inbound_webhook', 'update');
  select * into v_row from intake.inbound_webhooks w where w.inbound_webhook_id = p_inbound_webhook_id for update;
  if not found then
    raise exception 'inbound webhook % not found', p_inbound_webhook_id using errcode = 'P0002';
  end if;
  if p_config->>'auth_type' is distinct from v_row.auth_type then
    raise exception 'auth.auth_type: cannot change from % to %; create a new webhook instead',
      v_row.auth_type, p_config->>'auth_type' using errcode = '22023';
  end if;
  if p_config->>'handler_type' = 'workflow' and not exists (
    select 1 from intake.workflows f
     where f.tenant = v_row.tenant and f.workflow_id = (p_config->'handler_config'->>'workflow_id')::uuid
  ) then
    raise exception 'handler.workflow_id: no workflow % in this tenant', p_config->'handler_config'->>'workflow_id'
      using errcode = '22023';
  end if;
  update intake.inbound_webhooks w
     set name = p_config->>'name',
         slug = p_config->>'slug',
         description = p_config->>'description',
         auth_config = coalesce(p_config->'auth_config', '{}'),
         idempotency_source = nullif(p_config->'idempotency_source', 'null'),
         idempotency_window_seconds = (p_config->>'idempotency_window_seconds')::int,
         handler_type = p_config->>'handler_type',
         handler_config = p_config->'handler_config',
         mapping_namespace = p_config->>'mapping_namespace',
         rate_limit_per_minute = (p_config->>'rate_limit_per_minute')::int,
         is_active = (p_config->>'is_active')::boolean,
         auto_disabled_at = case when (p_config->>'is_active')::boolean then null else w.auto_disabled_at end
   where w.tenant = v_row.tenant and w.inbound_webhook_id = p_inbound_webhook_id
  returning * into v_row;
  return v_row;
end
$$;
comment on function intake.update_inbound_webhook(uuid, jsonb) is
  'Replaces a webhook''s configuration with one validated by the caller (needs inbound_webhook:update).';
grant execute on function intake.update_inbound_webhook(uuid, jsonb) to intake_user;
