-- The check every security-definer function of the management API starts with: such a function
-- runs as its owner, so intake.require_permission() (which trusts the owner) cannot serve; this
-- one trusts no one. The caller's transaction must name a tenant (intake.tenant) and its user
-- (intake.user_id) must hold resource:action. Returns the tenant.
create or replace function intake_private.require_tenant_permission(p_resource text, p_action text, p_note text default null)
  returns uuid
  language plpgsql stable
  set search_path = pg_catalog
  as $$
declare
  v_tenant uuid := intake.current_tenant();
begin
  if v_tenant is null then
    raise exception 'no tenant: set intake.tenant' using errcode = '42501';
  end if;
  if not intake.has_permission(p_resource, p_action) then
    raise exception 'permission denied: %:% is not granted to this user%', p_resource, p_action,
      coalesce(' (' || p_note || ')', '')
      using errcode = '42501', hint = 'ask a tenant admin for a role that has it';
  end if;
  return v_tenant;
end
$$;
comment on function intake_private.require_tenant_permission(text, text, text) is
  'For security-definer API functions: the current tenant, or 42501 when none is set or the user lacks resource:action.';
