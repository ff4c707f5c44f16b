-- Whether the caller sees every tenant's rows anyway: a superuser, a role that bypasses RLS, or
-- the tables' owner (a DBA in psql). The caller is the role in effect before a security-definer
-- function switched to its owner: the `role` setting, else the login. Security-definer enqueue
-- functions take a tenant argument on trust only from such a caller when no tenant is set.
create or replace function intake_private.caller_sees_every_tenant() returns boolean
  language sql stable
  set search_path = pg_catalog
  as $$
  select coalesce((
    select r.rolsuper or r.rolbypassrls
           or pg_has_role(r.oid, (select c.relowner from pg_class c where c.oid = 'intake.inbound_webhook_deliveries'::regclass), 'member')
      from pg_roles r
     where r.rolname = coalesce(nullif(current_setting('role', true), 'none'), session_user)
  ), false)
$$;
comment on function intake_private.caller_sees_every_tenant() is
  'True for a caller that sees every tenant''s rows anyway (superuser, bypassrls, the tables'' owner): the role setting, else the login.';
grant execute on function intake_private.caller_sees_every_tenant() to intake_app, intake_user;
