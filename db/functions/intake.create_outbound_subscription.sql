-- Stores a new outbound subscription and its first secret for the management API. Node checks
-- the input (core/outboundSubscriptions.ts: https unless allowed, the address it resolves to,
-- event types, headers), generates the whsec_ secret and seals it (AES-256-GCM with the tenant
-- and this subscription id as additional data, which is why the caller picks the id): SQL never
-- sees the plaintext. Security definer for the intake_private write, so it checks the
-- permission itself and takes the tenant and creating user from the settings only.
-- p_config: {url, description, event_types, headers, rate_limit_per_minute, is_active}.
create or replace function intake.create_outbound_subscription(p_subscription_id uuid, p_config jsonb, p_secret bytea)
  returns intake.outbound_subscriptions
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_tenant uuid := intake_private.require_tenant_permission('outbound_webhook', 'create');
  v_row intake.outbound_subscriptions;
begin
  if p_secret is null then
    raise exception 'an outbound subscription needs a secret' using errcode = '22023';
  end if;
  insert into intake.outbound_subscriptions (
    tenant, subscription_id, url, description, event_types, headers, rate_limit_per_minute, is_active, created_by
  ) values (
    v_tenant, p_subscription_id, p_config->>'url', p_config->>'description',
    array(select jsonb_array_elements_text(p_config->'event_types')),
    coalesce(p_config->'headers', '{}'), (p_config->>'rate_limit_per_minute')::int,
    coalesce((p_config->>'is_active')::boolean, true), intake.current_user_id()
  )
  returning * into v_row;
  insert into intake_private.outbound_subscription_secrets (tenant, subscription_id, secret)
  values (v_tenant, p_subscription_id, p_secret);
  return v_row;
end
$$;
comment on function intake.create_outbound_subscription(uuid, jsonb, bytea) is
  'Stores an outbound subscription checked by the caller and its sealed secret, in the current tenant (needs outbound_webhook:create).';
grant execute on function intake.create_outbound_subscription(uuid, jsonb, bytea) to intake_user;
