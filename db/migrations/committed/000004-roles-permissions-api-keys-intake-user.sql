--! Previous: sha1:083a2f4ffc2b4bb7df6613014c15224e1e1f7a8d
--! Hash: sha1:e8f425a532293217c3c3961b6ec6402e79b2eaf2
--! Message: roles, permissions, api keys and intake_user for the management APIs

-- Who is asking (issue 4): users get roles, roles get permissions on a resource, and API keys
-- stand for a user. Management requests (GraphQL now, REST next) run as the non-owner role
-- intake_user with the tenant and user in settings; row-level security and the SQL functions
-- check the permission, so GraphQL, REST and psql share one rule. intake_app stays the worker's
-- role: its policies remain tenant-only. Same rules as 000001: tenant first in every key,
-- composite foreign keys, RLS with the tenant_isolation policy written before the grants.

-- Roles are cluster-wide, so create this one only once (as 000001 does for intake_app).
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'intake_user') then
    create role intake_user nologin;
  end if;
  if not pg_has_role(current_user, 'intake_user', 'member') then
    execute format('grant intake_user to %I', current_user);
  end if;
end
$$;

-- ───────────────────────────── psa: roles, permissions, API keys ─────────────────────────────

create table psa.roles (
  tenant uuid not null references psa.tenants on delete cascade,
  role_id uuid not null default gen_random_uuid(),
  name text not null check (name ~ '^[a-z][a-z0-9_]*$' and length(name) <= 63),
  description text,
  created_at timestamptz not null default now(),
  primary key (tenant, role_id)
);
create unique index roles_name_key on psa.roles (tenant, name);
comment on table psa.roles is 'A tenant''s roles (every tenant starts with admin and viewer); permissions hang off them.';

create table psa.role_permissions (
  tenant uuid not null,
  role_id uuid not null,
  -- e.g. inbound_webhook; action e.g. create, read, update, delete, replay
  resource text not null check (resource ~ '^[a-z][a-z0-9_]*$'),
  action text not null check (action ~ '^[a-z][a-z0-9_]*$'),
  primary key (tenant, role_id, resource, action),
  foreign key (tenant, role_id) references psa.roles (tenant, role_id) on delete cascade
);
comment on table psa.role_permissions is 'What a role may do: one row per (resource, action).';

create table psa.user_roles (
  tenant uuid not null,
  user_id uuid not null,
  role_id uuid not null,
  created_at timestamptz not null default now(),
  primary key (tenant, user_id, role_id),
  foreign key (tenant, user_id) references psa.users (tenant, user_id) on delete cascade,
  foreign key (tenant, role_id) references psa.roles (tenant, role_id) on delete cascade
);
create index user_roles_role_idx on psa.user_roles (tenant, role_id);
comment on table psa.user_roles is 'Which roles a user has.';

-- The key itself is never stored: only its SHA-256 digest, and a short prefix so a person can
-- tell keys apart. The tenant is part of the key's text, so a lookup filters by tenant first.
create table psa.api_keys (
  tenant uuid not null,
  api_key_id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  prefix text not null check (length(prefix) between 4 and 32),
  key_hash bytea not null check (length(key_hash) = 32),
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  primary key (tenant, api_key_id),
  foreign key (tenant, user_id) references psa.users (tenant, user_id) on delete cascade
);
create unique index api_keys_hash_key on psa.api_keys (tenant, key_hash);
create index api_keys_user_idx on psa.api_keys (tenant, user_id);
comment on table psa.api_keys is 'API keys; each acts as its user. Stored as a SHA-256 digest, shown once at creation.';

-- Every existing tenant gets the roles a new one gets from intake.create_tenant().
with r as (
  insert into psa.roles (tenant, name, description)
  select t.tenant, v.name, v.description
    from psa.tenants t
   cross join (values ('admin', 'Everything, including webhook configuration and replays'),
                      ('viewer', 'Read webhooks, deliveries and rejections')) v (name, description)
  returning tenant, role_id, name
)
insert into psa.role_permissions (tenant, role_id, resource, action)
select r.tenant, r.role_id, 'inbound_webhook', a.action
  from r
  join (values ('admin', 'create'), ('admin', 'read'), ('admin', 'update'), ('admin', 'delete'), ('admin', 'replay'),
               ('viewer', 'read')) a (role, action)
    on a.role = r.name;

-- ───────────────────────────── the claims, in one place each ─────────────────────────────
-- Like intake.current_tenant() (000001) these live here, not in db/functions/, because the
-- policies below depend on them.

create function intake.current_user_id() returns uuid
  language sql stable parallel safe
  as $$ select nullif(current_setting('intake.user_id', true), '')::uuid $$;
comment on function intake.current_user_id() is
  'The PSA user of the current transaction (setting intake.user_id), or null when unset.';

-- Security definer so that intake_user needs no access to the role tables; the tenant and user
-- come from the transaction's settings only.
create function intake.has_permission(p_resource text, p_action text) returns boolean
  language sql stable security definer
  set search_path = pg_catalog
  as $$
  select exists (
    select 1
      from psa.user_roles ur
      join psa.users u on u.tenant = ur.tenant and u.user_id = ur.user_id and u.is_active
      join psa.role_permissions rp on rp.tenant = ur.tenant and rp.role_id = ur.role_id
     where ur.tenant = intake.current_tenant()
       and ur.user_id = intake.current_user_id()
       and rp.resource = p_resource
       and rp.action = p_action
  )
$$;
comment on function intake.has_permission(text, text) is
  'Whether the current user (intake.user_id) of the current tenant has a role granting resource:action.';

-- ───────────────────────────── row-level security ─────────────────────────────

do $$
declare
  t regclass;
begin
  foreach t in array array['psa.roles', 'psa.role_permissions', 'psa.user_roles', 'psa.api_keys']::regclass[] loop
    execute format('alter table %s enable row level security', t);
    execute format('create policy tenant_isolation on %s using (tenant = intake.current_tenant()) with check (tenant = intake.current_tenant())', t);
  end loop;
end
$$;

-- intake_user: on top of tenant_isolation (permissive, every role), restrictive policies that
-- need the inbound_webhook permission for each command. Sample payloads and delivery bodies are
-- columns of these tables, so reading them needs `read` like the rest. The check is wrapped in
-- a scalar subquery so that it runs once per statement (an InitPlan), not once per row.
create policy need_read on intake.inbound_webhooks as restrictive for select to intake_user
  using ((select intake.has_permission('inbound_webhook', 'read')));
create policy need_create on intake.inbound_webhooks as restrictive for insert to intake_user
  with check ((select intake.has_permission('inbound_webhook', 'create')));
create policy need_update on intake.inbound_webhooks as restrictive for update to intake_user
  using ((select intake.has_permission('inbound_webhook', 'update')));
create policy need_delete on intake.inbound_webhooks as restrictive for delete to intake_user
  using ((select intake.has_permission('inbound_webhook', 'delete')));

create policy need_read on intake.inbound_webhook_deliveries as restrictive for select to intake_user
  using ((select intake.has_permission('inbound_webhook', 'read')));
-- intake_user inserts deliveries only as replays (replay) and test requests (update)
create policy need_replay_or_update on intake.inbound_webhook_deliveries as restrictive for insert to intake_user
  with check (case when is_replay then (select intake.has_permission('inbound_webhook', 'replay'))
                   else (select intake.has_permission('inbound_webhook', 'update')) end);

create policy need_read on intake.inbound_webhook_auth_rejections as restrictive for select to intake_user
  using ((select intake.has_permission('inbound_webhook', 'read')));
-- workflows are read for the webhook handler dropdown and a delivery's run
create policy need_read on intake.workflows as restrictive for select to intake_user
  using ((select intake.has_permission('inbound_webhook', 'read')));
create policy need_read on intake.workflow_runs as restrictive for select to intake_user
  using ((select intake.has_permission('inbound_webhook', 'read')));

-- ───────────────────────────── grants ─────────────────────────────
-- intake_user: no intake_private table, no psa role or key table (has_permission and the key
-- lookup are security definer). Usage on intake_private is only for calling
-- intake_private.enqueue_dispatch (granted with that function).

grant usage on schema psa, intake, intake_private to intake_user;
grant execute on function intake.current_tenant(), intake.current_user_id(), intake.has_permission(text, text) to intake_user;
grant execute on function intake.current_user_id(), intake.has_permission(text, text) to intake_app;
grant select on psa.tenants to intake_user;
grant select, update, delete on intake.inbound_webhooks to intake_user;
grant select, insert on intake.inbound_webhook_deliveries to intake_user;
grant select on intake.inbound_webhook_auth_rejections, intake.workflows, intake.workflow_runs to intake_user;
