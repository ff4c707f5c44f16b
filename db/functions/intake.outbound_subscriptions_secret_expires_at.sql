-- OutboundSubscription.secretExpiresAt (a computed column): when the secrets replaced by the
-- last rotation stop signing, or null when only one secret signs. Security definer because the
-- caller cannot read intake_private; it reveals a time, never a secret.
create or replace function intake.outbound_subscriptions_secret_expires_at(s intake.outbound_subscriptions) returns timestamptz
  language sql stable security definer
  set search_path = pg_catalog
  as $$
  select max(x.expires_at) from intake_private.outbound_subscription_secrets x
   where x.tenant = s.tenant and x.subscription_id = s.subscription_id and x.expires_at > now()
     and s.tenant = intake.current_tenant()
$$;
comment on function intake.outbound_subscriptions_secret_expires_at(intake.outbound_subscriptions) is
  'When the previous signing secrets of the subscription stop signing (rotation overlap), or null when one secret signs.';
grant execute on function intake.outbound_subscriptions_secret_expires_at(intake.outbound_subscriptions) to intake_user;
