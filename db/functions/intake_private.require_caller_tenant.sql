-- The tenant check of the security-definer enqueue functions (enqueue_dispatch,
-- enqueue_mapping_preview), which intake_app and intake_user call: with a tenant set, the row
-- must be of that tenant; without one, p_tenant is taken on trust only from a caller that sees
-- every tenant's rows anyway: a superuser, a role that bypasses RLS, or the tables' owner (a
-- DBA in psql). The caller is the role in effect before the security-definer function switched
-- to its owner: the `role` setting, else the login. p_what names the row for the message.
create or replace function intake_private.require_caller_tenant(p_tenant uuid, p_what text) returns void
  language plpgsql stable
  set search_path = pg_catalog
  as $$
begin
  if intake.current_tenant() is null then
    if not coalesce((
      select r.rolsuper or r.rolbypassrls
             or pg_has_role(r.oid, (select c.relowner from pg_class c where c.oid = 'intake.inbound_webhook_deliveries'::regclass), 'member')
        from pg_roles r
       where r.rolname = coalesce(nullif(current_setting('role', true), 'none'), session_user)
    ), false) then
      raise exception 'no tenant is set (intake.tenant): cannot enqueue %', p_what using errcode = '42501';
    end if;
  elsif p_tenant is distinct from intake.current_tenant() then
    raise exception '% is not of the current tenant', p_what using errcode = '42501';
  end if;
end
$$;
comment on function intake_private.require_caller_tenant(uuid, text) is
  'Raises 42501 unless p_tenant is the current tenant, or no tenant is set and the caller sees every tenant anyway (a DBA).';
