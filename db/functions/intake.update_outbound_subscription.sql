-- Replaces an outbound subscription's settings with ones Node has checked (the whole set, as
-- for intake.create_outbound_subscription). Turning it on clears what Intake recorded when it
-- turned it off (auto_disabled_at, disabled_reason) and the failing streak. Runs as the
-- caller: row-level security and outbound_webhook:update decide.
create or replace function intake.update_outbound_subscription(p_subscription_id uuid, p_config jsonb)
  returns intake.outbound_subscriptions
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_row intake.outbound_subscriptions;
begin
  perform intake.require_permission('outbound_webhook', 'update');
  update intake.outbound_subscriptions s
     set url = p_config->>'url',
         description = p_config->>'description',
         event_types = array(select jsonb_array_elements_text(p_config->'event_types')),
         headers = coalesce(p_config->'headers', '{}'),
         rate_limit_per_minute = (p_config->>'rate_limit_per_minute')::int,
         is_active = coalesce((p_config->>'is_active')::boolean, true),
         disabled_reason = case when coalesce((p_config->>'is_active')::boolean, true) then null else s.disabled_reason end,
         auto_disabled_at = case when coalesce((p_config->>'is_active')::boolean, true) then null else s.auto_disabled_at end,
         failing_since = case when coalesce((p_config->>'is_active')::boolean, true) and not s.is_active then null else s.failing_since end,
         updated_at = now()
   where s.subscription_id = p_subscription_id
  returning * into v_row;
  if not found then
    raise exception 'outbound subscription % not found', p_subscription_id using errcode = 'P0002';
  end if;
  return v_row;
end
$$;
comment on function intake.update_outbound_subscription(uuid, jsonb) is
  'Replaces an outbound subscription''s settings (checked by the caller; needs outbound_webhook:update). Turning it on clears an automatic disable.';
grant execute on function intake.update_outbound_subscription(uuid, jsonb) to intake_user;
