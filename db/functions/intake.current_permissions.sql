-- What the current user may do, as resource:action strings, so a UI can show only the buttons
-- that will work. Security definer: intake_user cannot read the role tables themselves.
create or replace function intake.current_permissions() returns text[]
  language sql stable security definer
  set search_path = pg_catalog
  as $$
  select coalesce(array_agg(distinct rp.resource || ':' || rp.action order by rp.resource || ':' || rp.action), '{}')
    from psa.user_roles ur
    join psa.users u on u.tenant = ur.tenant and u.user_id = ur.user_id and u.is_active
    join psa.role_permissions rp on rp.tenant = ur.tenant and rp.role_id = ur.role_id
   where ur.tenant = intake.current_tenant() and ur.user_id = intake.current_user_id()
$$;
comment on function intake.current_permissions() is
  'The current user''s permissions in the current tenant, as resource:action.';
grant execute on function intake.current_permissions() to intake_user;
