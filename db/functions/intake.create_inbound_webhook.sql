-- Stores a new webhook and its secret for the management API. Node validates the input with the
-- zod schema, generates the secret and seals it (AES-256-GCM under INTAKE_MASTER_KEY, with the
-- tenant and this webhook id as additional data, which is why the caller picks the id) or
-- hashes it: SQL never sees the master key or the plaintext. Security definer, because the
-- caller (intake_user) may not write intake_private; so it checks the permission itself and
-- takes the tenant and the creating user from the transaction's settings only.
-- p_config: as for intake.update_inbound_webhook(). p_secret_kind: aes256gcm | sha256 | null
-- (ip_allowlist has no secret).
create or replace function intake.create_inbound_webhook(
  p_inbound_webhook_id uuid,
  p_config jsonb,
  p_secret_kind text,
  p_secret bytea
) returns intake.inbound_webhooks
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_tenant uuid := intake_private.require_tenant_permission('inbound_webhook', 'create');
  v_row intake.inbound_webhooks;
begin
  if (p_config->>'auth_type' = 'ip_allowlist') <> (p_secret is null) then
    raise exception 'a % webhook %', p_config->>'auth_type',
      case when p_secret is null then 'needs a secret' else 'takes no secret' end using errcode = '22023';
  end if;
  if p_secret is not null and p_secret_kind is distinct from
       (case when p_config->>'auth_type' = 'hmac_sha256' then 'aes256gcm' else 'sha256' end) then
    raise exception 'a % webhook''s secret is not stored as %', p_config->>'auth_type', p_secret_kind using errcode = '22023';
  end if;
  if p_config->>'handler_type' = 'workflow' and not exists (
    select 1 from intake.workflows f
     where f.tenant = v_tenant and f.workflow_id = (p_config->'handler_config'->>'workflow_id')::uuid
  ) then
    raise exception 'handler.workflow_id: no workflow % in this tenant', p_config->'handler_config'->>'workflow_id'
      using errcode = '22023';
  end if;

  insert into intake.inbound_webhooks (
    tenant, inbound_webhook_id, name, slug, description, auth_type, auth_config, idempotency_source,
    idempotency_window_seconds, handler_type, handler_config, mapping_namespace, rate_limit_per_minute,
    is_active, created_by
  ) values (
    v_tenant, p_inbound_webhook_id, p_config->>'name', p_config->>'slug', p_config->>'description',
    p_config->>'auth_type', coalesce(p_config->'auth_config', '{}'), nullif(p_config->'idempotency_source', 'null'),
    coalesce((p_config->>'idempotency_window_seconds')::int, 86400), p_config->>'handler_type', p_config->'handler_config',
    p_config->>'mapping_namespace', coalesce((p_config->>'rate_limit_per_minute')::int, 600),
    coalesce((p_config->>'is_active')::boolean, true), intake.current_user_id()
  )
  returning * into v_row;

  if p_secret is not null then
    insert into intake_private.inbound_webhook_secrets (tenant, inbound_webhook_id, kind, secret)
    values (v_tenant, p_inbound_webhook_id, p_secret_kind, p_secret);
  end if;
  return v_row;
end
$$;
comment on function intake.create_inbound_webhook(uuid, jsonb, text, bytea) is
  'Stores a webhook validated by the caller and its sealed or hashed secret, in the current tenant (needs inbound_webhook:create).';
grant execute on function intake.create_inbound_webhook(uuid, jsonb, text, bytea) to intake_user;
