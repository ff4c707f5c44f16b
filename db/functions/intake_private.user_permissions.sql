-- A user's permissions as sorted resource:action strings: what the API key and session lookups
-- (authenticate_api_key, authenticate_session) hand to the API layer as its claims. One home, so
-- both kinds of sign-in always carry the same permissions. Security definer like its callers:
-- the role tables are not readable by the login role.
create or replace function intake_private.user_permissions(p_tenant uuid, p_user_id uuid) returns text[]
  language sql stable security definer
  set search_path = pg_catalog
  as $$
  select coalesce(array(
           select distinct rp.resource || ':' || rp.action
             from psa.user_roles ur
             join psa.role_permissions rp on rp.tenant = ur.tenant and rp.role_id = ur.role_id
            where ur.tenant = p_tenant and ur.user_id = p_user_id
            order by 1
         ), '{}')
$$;
comment on function intake_private.user_permissions(uuid, uuid) is
  'The permissions (resource:action, sorted) a user of a tenant has through their roles.';
revoke execute on function intake_private.user_permissions(uuid, uuid) from public;
