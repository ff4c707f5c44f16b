--! Previous: -
--! Hash: sha1:f956b3f4b896fe9179f90bb5830f702415ba2740
--! Message: core schema: tenants, PSA entities, webhooks, deliveries, secrets, RLS

-- Roles are cluster-wide, so create them only once. `intake_app` is the non-owner role that
-- actions, management APIs and tests run as: row-level security applies to it.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'intake_app') then
    create role intake_app nologin;
  end if;
  if not pg_has_role(current_user, 'intake_app', 'member') then
    execute format('grant intake_app to %I', current_user);
  end if;
end
$$;

create extension if not exists pgcrypto;

create schema psa;
create schema intake;
create schema intake_private;
revoke all on schema intake_private from public;
grant usage on schema psa, intake, intake_private to intake_app;
-- Functions are not executable by everyone by default: each grant below is deliberate.
alter default privileges revoke execute on functions from public;

-- The one place the tenant reaches SQL (design rule 5). It lives in a migration rather than in
-- db/functions/ because policies below depend on it. Unset → null → every policy fails closed.
create function intake.current_tenant() returns uuid
  language sql stable parallel safe
  as $$ select nullif(current_setting('intake.tenant', true), '')::uuid $$;
comment on function intake.current_tenant() is
  'The tenant of the current transaction (setting intake.tenant), or null when unset: RLS then hides every row.';
grant execute on function intake.current_tenant() to intake_app;

-- ───────────────────────────── psa: the host PSA's entities ─────────────────────────────

create table psa.tenants (
  tenant uuid primary key default gen_random_uuid(),
  slug text not null unique check (slug ~ '^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$' and length(slug) <= 63),
  name text not null check (length(name) between 1 and 200),
  -- null: follow INTAKE_INBOUND_WEBHOOKS_ENABLED (default on); true/false: this tenant's override
  inbound_webhooks_enabled boolean,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table psa.tenants is 'One row per MSP. slug appears in inbound webhook URLs.';

create table psa.users (
  tenant uuid not null references psa.tenants on delete cascade,
  user_id uuid not null default gen_random_uuid(),
  email text not null check (email ~ '^[^@\s]+@[^@\s]+$'),
  display_name text,
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  primary key (tenant, user_id)
);
create unique index users_email_key on psa.users (tenant, lower(email));

create table psa.boards (
  tenant uuid not null references psa.tenants on delete cascade,
  board_id uuid not null default gen_random_uuid(),
  board_name text not null,
  is_default boolean not null default false,
  display_order int not null default 0,
  primary key (tenant, board_id)
);
create unique index boards_name_key on psa.boards (tenant, lower(board_name));
create unique index boards_one_default on psa.boards (tenant) where is_default;

-- status_type lets ticket and project-task statuses share the table, as Alga's does.
create table psa.statuses (
  tenant uuid not null references psa.tenants on delete cascade,
  status_id uuid not null default gen_random_uuid(),
  status_type text not null default 'ticket' check (status_type in ('ticket', 'project_task')),
  name text not null,
  is_closed boolean not null default false,
  is_default boolean not null default false,
  order_number int not null default 0,
  primary key (tenant, status_id)
);
create unique index statuses_name_key on psa.statuses (tenant, status_type, lower(name));
create unique index statuses_one_default on psa.statuses (tenant, status_type) where is_default;

create table psa.priorities (
  tenant uuid not null references psa.tenants on delete cascade,
  priority_id uuid not null default gen_random_uuid(),
  priority_name text not null,
  order_number int not null default 0,
  color text,
  is_default boolean not null default false,
  primary key (tenant, priority_id)
);
create unique index priorities_name_key on psa.priorities (tenant, lower(priority_name));
create unique index priorities_one_default on psa.priorities (tenant) where is_default;

create table psa.clients (
  tenant uuid not null references psa.tenants on delete cascade,
  client_id uuid not null default gen_random_uuid(),
  client_name text not null check (length(client_name) between 1 and 500),
  email text,
  phone_no text,
  url text,
  notes text,
  is_inactive boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant, client_id)
);

create table psa.contacts (
  tenant uuid not null references psa.tenants on delete cascade,
  contact_name_id uuid not null default gen_random_uuid(),
  full_name text not null check (length(full_name) between 1 and 500),
  email text,
  phone_number text,
  role text,
  client_id uuid,
  is_inactive boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant, contact_name_id),
  foreign key (tenant, client_id) references psa.clients (tenant, client_id)
);
create index contacts_client_idx on psa.contacts (tenant, client_id);

create table psa.assets (
  tenant uuid not null references psa.tenants on delete cascade,
  asset_id uuid not null default gen_random_uuid(),
  asset_tag text,
  name text not null check (length(name) between 1 and 500),
  asset_type text not null default 'unknown',
  serial_number text,
  status text not null default 'active',
  location text,
  client_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant, asset_id),
  foreign key (tenant, client_id) references psa.clients (tenant, client_id)
);
create index assets_client_idx on psa.assets (tenant, client_id);
create index assets_serial_idx on psa.assets (tenant, serial_number);

-- Per-tenant counters (ticket numbers) so nothing depends on a global sequence (design rule 7).
create table psa.tenant_counters (
  tenant uuid not null references psa.tenants on delete cascade,
  counter_name text not null,
  value bigint not null default 0,
  primary key (tenant, counter_name)
);

create table psa.tickets (
  tenant uuid not null references psa.tenants on delete cascade,
  ticket_id uuid not null default gen_random_uuid(),
  ticket_number text not null,
  title text not null check (length(title) between 1 and 1000),
  description text,
  board_id uuid not null,
  status_id uuid not null,
  priority_id uuid not null,
  client_id uuid,
  contact_name_id uuid,
  asset_id uuid,
  assigned_to uuid,
  source text not null default 'manual',
  entered_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  closed_at timestamptz,
  primary key (tenant, ticket_id),
  unique (tenant, ticket_number),
  foreign key (tenant, board_id) references psa.boards (tenant, board_id),
  foreign key (tenant, status_id) references psa.statuses (tenant, status_id),
  foreign key (tenant, priority_id) references psa.priorities (tenant, priority_id),
  foreign key (tenant, client_id) references psa.clients (tenant, client_id),
  foreign key (tenant, contact_name_id) references psa.contacts (tenant, contact_name_id),
  foreign key (tenant, asset_id) references psa.assets (tenant, asset_id),
  foreign key (tenant, assigned_to) references psa.users (tenant, user_id)
);
create index tickets_client_idx on psa.tickets (tenant, client_id);
create index tickets_entered_idx on psa.tickets (tenant, entered_at desc);

-- The canonical external-id ↔ entity lookup (PRD "Reused existing tables"), tenant for tenant_id.
create table psa.tenant_external_entity_mappings (
  tenant uuid not null references psa.tenants on delete cascade,
  id uuid not null default gen_random_uuid(),
  integration_type text not null,
  alga_entity_type text not null,
  alga_entity_id text not null,
  external_entity_id text not null,
  external_realm_id text,
  sync_status text not null default 'synced',
  last_synced_at timestamptz not null default now(),
  metadata jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant, id)
);
create unique index teem_entity_key on psa.tenant_external_entity_mappings
  (tenant, integration_type, alga_entity_type, alga_entity_id);
create unique index teem_external_key on psa.tenant_external_entity_mappings
  (tenant, integration_type, alga_entity_type, external_entity_id, external_realm_id) nulls not distinct;

-- ───────────────────────────── intake: webhooks and their log ─────────────────────────────

create table intake.inbound_webhooks (
  tenant uuid not null references psa.tenants on delete cascade,
  inbound_webhook_id uuid not null default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  slug text not null check (slug ~ '^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$' and length(slug) <= 63),
  description text,
  auth_type text not null check (auth_type in ('hmac_sha256', 'bearer', 'ip_allowlist', 'path_token')),
  auth_config jsonb not null default '{}',
  idempotency_source jsonb check (idempotency_source is null or idempotency_source->>'type' in ('header', 'jsonata')),
  idempotency_window_seconds int not null default 86400 check (idempotency_window_seconds > 0),
  handler_type text not null check (handler_type in ('direct_action', 'workflow')),
  handler_config jsonb not null,
  -- integration namespace of its external-id mappings: `webhook:<mapping_namespace or slug>`
  mapping_namespace text,
  rate_limit_per_minute int not null default 600 check (rate_limit_per_minute >= 0),
  sample_payload jsonb,
  sample_captured_at timestamptz,
  sample_capture_until timestamptz,
  is_active boolean not null default true,
  auto_disabled_at timestamptz,
  -- bumped whenever anything but the sample changes; caches of compiled mappings key on it
  config_version int not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  created_by uuid,
  primary key (tenant, inbound_webhook_id),
  unique (tenant, slug),
  foreign key (tenant, created_by) references psa.users (tenant, user_id)
);
comment on table intake.inbound_webhooks is 'One row per inbound webhook URL. Secrets are in intake_private, never here.';

create table intake_private.inbound_webhook_secrets (
  tenant uuid not null,
  secret_id uuid not null default gen_random_uuid(),
  inbound_webhook_id uuid not null,
  -- aes256gcm: ciphertext of the secret (HMAC schemes need the plaintext back);
  -- sha256: digest of a bearer/path token (only ever compared)
  kind text not null check (kind in ('aes256gcm', 'sha256')),
  secret bytea not null,
  created_at timestamptz not null default now(),
  -- set when rotated out: the secret still verifies until then
  expires_at timestamptz,
  primary key (tenant, secret_id),
  foreign key (tenant, inbound_webhook_id) references intake.inbound_webhooks (tenant, inbound_webhook_id) on delete cascade
);
create index inbound_webhook_secrets_webhook_idx on intake_private.inbound_webhook_secrets (tenant, inbound_webhook_id);

create table intake.inbound_webhook_deliveries (
  tenant uuid not null,
  delivery_id uuid not null default gen_random_uuid(),
  inbound_webhook_id uuid not null,
  idempotency_key text,
  idempotency_expires_at timestamptz,
  -- true while this delivery owns its idempotency key; cleared when the window has passed and
  -- the key is reused. The unique partial index below makes concurrent repeats lose.
  dedupe_active boolean not null default false,
  duplicate_of uuid,
  received_at timestamptz not null default now(),
  request_method text not null,
  request_path text not null,
  request_headers jsonb not null default '{}',
  request_body jsonb,
  -- the raw text when the body could not be parsed (malformed JSON), so the log shows what came
  request_body_text text,
  body_format text check (body_format in ('json', 'form', 'text')),
  content_type text,
  source_ip inet,
  user_agent text,
  auth_status text not null default 'verified'
    check (auth_status in ('verified', 'rejected_signature', 'rejected_bearer', 'rejected_ip', 'rejected_no_auth')),
  dispatch_status text not null default 'pending' check (dispatch_status in ('pending', 'dispatched', 'duplicate', 'failed')),
  handler_outcome jsonb,
  error_message text,
  retry_count int not null default 0,
  response_status int,
  response_body jsonb,
  duration_ms int,
  dispatched_at timestamptz,
  is_replay boolean not null default false,
  replayed_from uuid,
  is_test boolean not null default false,
  primary key (tenant, delivery_id),
  foreign key (tenant, inbound_webhook_id) references intake.inbound_webhooks (tenant, inbound_webhook_id) on delete cascade,
  foreign key (tenant, replayed_from) references intake.inbound_webhook_deliveries (tenant, delivery_id) on delete set null (replayed_from),
  foreign key (tenant, duplicate_of) references intake.inbound_webhook_deliveries (tenant, delivery_id) on delete set null (duplicate_of)
);
create unique index deliveries_dedupe_key on intake.inbound_webhook_deliveries (tenant, inbound_webhook_id, idempotency_key)
  where dedupe_active;
create index deliveries_webhook_received_idx on intake.inbound_webhook_deliveries (tenant, inbound_webhook_id, received_at desc, delivery_id desc);
create index deliveries_received_idx on intake.inbound_webhook_deliveries (tenant, received_at desc, delivery_id desc);
create index deliveries_pending_idx on intake.inbound_webhook_deliveries (tenant, received_at) where dispatch_status = 'pending';
create index deliveries_replayed_from_idx on intake.inbound_webhook_deliveries (tenant, replayed_from) where replayed_from is not null;

-- Rejected requests: kept apart, without the body, so they can be purged on their own schedule.
create table intake.inbound_webhook_auth_rejections (
  tenant uuid not null references psa.tenants on delete cascade,
  rejection_id uuid not null default gen_random_uuid(),
  inbound_webhook_id uuid,
  webhook_slug text not null,
  received_at timestamptz not null default now(),
  auth_status text not null check (auth_status in ('rejected_signature', 'rejected_bearer', 'rejected_ip', 'rejected_no_auth', 'unknown_webhook', 'inactive_webhook')),
  reason text not null,
  request_method text not null,
  source_ip inet,
  user_agent text,
  primary key (tenant, rejection_id),
  foreign key (tenant, inbound_webhook_id) references intake.inbound_webhooks (tenant, inbound_webhook_id) on delete set null (inbound_webhook_id)
);
create index auth_rejections_received_idx on intake.inbound_webhook_auth_rejections (tenant, received_at desc);

-- ───────────────────────────── triggers ─────────────────────────────
-- Trigger functions live here, not in db/functions/, because the triggers need them to exist.
-- They only change NEW or notify (design rule 3): no add_job, no global writes.

create function intake_private.tg_touch_config() returns trigger
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
begin
  new.updated_at := now();
  if tg_op = 'UPDATE' and (to_jsonb(new) - '{sample_payload,sample_captured_at,sample_capture_until,updated_at,config_version}'::text[])
       is distinct from (to_jsonb(old) - '{sample_payload,sample_captured_at,sample_capture_until,updated_at,config_version}'::text[]) then
    new.config_version := old.config_version + 1;
  end if;
  return new;
end
$$;
comment on function intake_private.tg_touch_config() is 'Keeps updated_at current and bumps config_version when a webhook''s configuration (not its sample) changes.';

create trigger _100_touch before update on intake.inbound_webhooks
  for each row execute function intake_private.tg_touch_config();

-- Receivers cache configs; this tells them which tenant's entries to drop.
create function intake_private.tg_notify_config_change() returns trigger
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_row record := case when tg_op = 'DELETE' then old else new end;
begin
  perform pg_notify('intake_config', v_row.tenant::text);
  return null;
end
$$;
comment on function intake_private.tg_notify_config_change() is 'NOTIFY intake_config with the tenant whose webhook configuration, secrets or flags changed.';

create trigger _900_notify after insert or update or delete on intake.inbound_webhooks
  for each row
  execute function intake_private.tg_notify_config_change();
create trigger _900_notify after insert or update or delete on intake_private.inbound_webhook_secrets
  for each row execute function intake_private.tg_notify_config_change();
create trigger _900_notify after update or delete on psa.tenants
  for each row execute function intake_private.tg_notify_config_change();

-- ───────────────────────────── row-level security ─────────────────────────────
-- Every tenant table: RLS on, the policy written before the grant.

do $$
declare
  t regclass;
begin
  foreach t in array array[
    'psa.tenants', 'psa.users', 'psa.boards', 'psa.statuses', 'psa.priorities', 'psa.clients',
    'psa.contacts', 'psa.assets', 'psa.tenant_counters', 'psa.tickets', 'psa.tenant_external_entity_mappings',
    'intake.inbound_webhooks', 'intake_private.inbound_webhook_secrets', 'intake.inbound_webhook_deliveries',
    'intake.inbound_webhook_auth_rejections'
  ]::regclass[] loop
    execute format('alter table %s enable row level security', t);
    execute format('create policy tenant_isolation on %s using (tenant = intake.current_tenant()) with check (tenant = intake.current_tenant())', t);
  end loop;
end
$$;

grant select on psa.tenants to intake_app;
grant select, insert, update, delete on
  psa.users, psa.boards, psa.statuses, psa.priorities, psa.clients, psa.contacts, psa.assets,
  psa.tickets, psa.tenant_external_entity_mappings
  to intake_app;
grant select, insert, update on psa.tenant_counters to intake_app;
grant select, insert, update, delete on intake.inbound_webhooks to intake_app;
grant select, insert, update on intake.inbound_webhook_deliveries to intake_app;
grant select on intake.inbound_webhook_auth_rejections to intake_app;
-- intake_private.inbound_webhook_secrets: no grant at all; only the owner reads secrets.
