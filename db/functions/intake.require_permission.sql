-- The permission check of the management SQL API, for security-invoker functions: a request of
-- the API role (intake_user, with intake.tenant and intake.user_id set) must hold the permission;
-- the owner (CLI, DBA in psql) and the worker's role intake_app are trusted and pass. Security
-- definer functions call intake.has_permission() themselves, since current_user is their owner.
create or replace function intake.require_permission(p_resource text, p_action text) returns void
  language plpgsql stable
  set search_path = pg_catalog
  as $$
begin
  if current_user = 'intake_user' and not intake.has_permission(p_resource, p_action) then
    raise exception 'permission denied: %:% is not granted to this user', p_resource, p_action
      using errcode = '42501', hint = 'ask a tenant admin for a role that has it';
  end if;
end
$$;
comment on function intake.require_permission(text, text) is
  'Raises 42501 unless the caller is trusted (not intake_user) or the current user has resource:action.';
grant execute on function intake.require_permission(text, text) to intake_user, intake_app;
