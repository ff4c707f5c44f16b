-- Everything the receiver needs to route and verify one request, in one round trip: the tenant
-- and its feature flag, the webhook's config and its live secrets. Never exposed to GraphQL.
create or replace function intake_private.receiver_config(p_tenant_slug text, p_webhook_slug text)
  returns table (
    tenant uuid,
    tenant_enabled boolean,
    inbound_webhook_id uuid,
    webhook_slug text,
    is_active boolean,
    auth_type text,
    auth_config jsonb,
    idempotency_source jsonb,
    rate_limit_per_minute int,
    config_version int,
    secrets jsonb
  )
  language sql stable
  set search_path = pg_catalog
  as $$
  select t.tenant, t.inbound_webhooks_enabled, w.inbound_webhook_id, w.slug, w.is_active, w.auth_type,
         w.auth_config, w.idempotency_source, w.rate_limit_per_minute, w.config_version,
         coalesce((
           select jsonb_agg(jsonb_build_object('kind', s.kind, 'secret', encode(s.secret, 'base64'), 'secret_id', s.secret_id,
                                               'inbound_webhook_id', s.inbound_webhook_id, 'expires_at', s.expires_at)
                            order by s.created_at desc)
             from intake_private.inbound_webhook_secrets s
            where s.tenant = w.tenant and s.inbound_webhook_id = w.inbound_webhook_id
              and (s.expires_at is null or s.expires_at > now())
         ), '[]'::jsonb)
    from psa.tenants t
    left join intake.inbound_webhooks w on w.tenant = t.tenant and w.slug = p_webhook_slug
   where t.slug = p_tenant_slug
$$;
comment on function intake_private.receiver_config(text, text) is
  'Routing and verification data for one inbound URL: tenant, flag, webhook config and live secrets (ciphertexts or digests, with when a rotated-out one expires).';
