--! Previous: sha1:0db72690210caf1fba7bd15856980ff590669c63
--! Hash: sha1:7c2deedf401b6163f78446d504ce97961db4784b
--! Message: webhook configuration versions, the version each delivery was dispatched with, replays pinned to a version, mapping previews for psql

-- ───────────────────────────── configuration versions ─────────────────────────────
-- Every saved configuration of a webhook is kept (issue 12): version N is the row's
-- config_version N (000001's touch trigger bumps it whenever anything but the sample changes).
-- A trigger records it, so a change made by any path (the APIs, a SQL function, a DBA's UPDATE
-- in psql) is recorded alike. config is the webhook's settings in the API's shape (auth and
-- handler with their types); secrets live in intake_private and are never part of it.
create table intake.inbound_webhook_versions (
  tenant uuid not null,
  inbound_webhook_id uuid not null,
  version int not null check (version >= 1),
  created_at timestamptz not null default now(),
  -- who saved it: the email of the API key's or session's user (setting intake.actor, set by the
  -- APIs from the claims only); null for psql and the CLI
  created_by text,
  -- the settings that differ from the previous version: top-level names, the handler's by key,
  -- its field mapping by field (e.g. {handler.field_mapping.title, auth}); {} for version 1
  changes text[] not null default '{}',
  config jsonb not null,
  -- set when this version was made by restoring an earlier one
  restored_from int,
  primary key (tenant, inbound_webhook_id, version),
  foreign key (tenant, inbound_webhook_id) references intake.inbound_webhooks (tenant, inbound_webhook_id) on delete cascade
);
comment on table intake.inbound_webhook_versions is
  'Every saved configuration of an inbound webhook (version = the webhook''s config_version then), with who saved it and what changed. Never a secret.';

-- Trigger helpers live here, not in db/functions/, because the trigger needs them (000001's rule).
create function intake_private.webhook_version_config(w intake.inbound_webhooks) returns jsonb
  language sql immutable
  set search_path = pg_catalog
  as $$
  select jsonb_build_object(
    'name', w.name,
    'slug', w.slug,
    'description', w.description,
    'auth', w.auth_config || jsonb_build_object('auth_type', w.auth_type),
    'idempotency', w.idempotency_source,
    'idempotency_window_seconds', w.idempotency_window_seconds,
    'handler', w.handler_config || jsonb_build_object('handler_type', w.handler_type),
    'mapping_namespace', w.mapping_namespace,
    'rate_limit_per_minute', w.rate_limit_per_minute,
    'is_active', w.is_active)
$$;
comment on function intake_private.webhook_version_config(intake.inbound_webhooks) is
  'A webhook row''s configuration as a version keeps it (the API''s shape: auth and handler with their types; no secret).';

create function intake_private.webhook_config_changes(p_old jsonb, p_new jsonb) returns text[]
  language sql immutable
  set search_path = pg_catalog
  as $$
  select coalesce(array_agg(c order by c), '{}')
    from (
      select k as c
        from (select jsonb_object_keys(p_old) union select jsonb_object_keys(p_new)) top (k)
       where k <> 'handler' and p_old -> k is distinct from p_new -> k
      union all
      -- another handler type: the handler as a whole
      select 'handler'
       where p_old -> 'handler' ->> 'handler_type' is distinct from p_new -> 'handler' ->> 'handler_type'
      union all
      select 'handler.' || k
        from (select jsonb_object_keys(p_old -> 'handler') union select jsonb_object_keys(p_new -> 'handler')) h (k)
       where p_old -> 'handler' ->> 'handler_type' is not distinct from p_new -> 'handler' ->> 'handler_type'
         and k <> 'field_mapping' and p_old -> 'handler' -> k is distinct from p_new -> 'handler' -> k
      union all
      select 'handler.field_mapping.' || k
        from (select jsonb_object_keys(coalesce(p_old -> 'handler' -> 'field_mapping', '{}'))
              union select jsonb_object_keys(coalesce(p_new -> 'handler' -> 'field_mapping', '{}'))) f (k)
       where p_old -> 'handler' ->> 'handler_type' is not distinct from p_new -> 'handler' ->> 'handler_type'
         and p_old -> 'handler' -> 'field_mapping' -> k is distinct from p_new -> 'handler' -> 'field_mapping' -> k
    ) s
$$;
comment on function intake_private.webhook_config_changes(jsonb, jsonb) is
  'The settings that differ between two version configs: top-level names, handler.<key>, handler.field_mapping.<field>.';

-- Security definer: no role may insert versions itself, so none can forge one.
create function intake_private.tg_record_config_version() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_config jsonb := intake_private.webhook_version_config(new);
begin
  if tg_op = 'UPDATE' and new.config_version = old.config_version then
    return null;
  end if;
  insert into intake.inbound_webhook_versions (tenant, inbound_webhook_id, version, created_by, changes, config, restored_from)
  values (new.tenant, new.inbound_webhook_id, new.config_version,
          nullif(current_setting('intake.actor', true), ''),
          case when tg_op = 'UPDATE' then intake_private.webhook_config_changes(intake_private.webhook_version_config(old), v_config) else '{}' end,
          v_config,
          nullif(current_setting('intake.restoring_version', true), '')::int)
  -- a version number is never recorded twice (a row deleted and made again keeps its history)
  on conflict (tenant, inbound_webhook_id, version) do nothing;
  return null;
end
$$;
comment on function intake_private.tg_record_config_version() is
  'Records a webhook''s configuration as a version when it is created and whenever its config_version moves.';

create trigger _500_record_version after insert or update on intake.inbound_webhooks
  for each row execute function intake_private.tg_record_config_version();

-- The webhooks there are: their current configuration as their current version (history before
-- this migration was not kept).
insert into intake.inbound_webhook_versions (tenant, inbound_webhook_id, version, created_at, config)
select w.tenant, w.inbound_webhook_id, w.config_version, w.updated_at, intake_private.webhook_version_config(w)
  from intake.inbound_webhooks w;

-- ───────────────────────────── which version a delivery used ─────────────────────────────
alter table intake.inbound_webhook_deliveries
  add column config_version int,
  add column dispatch_config_version int;
comment on column intake.inbound_webhook_deliveries.config_version is
  'The webhook configuration version the delivery was dispatched (or failed) with; null until then.';
comment on column intake.inbound_webhook_deliveries.dispatch_config_version is
  'A replay "with the configuration it was dispatched with": the version to dispatch with instead of the current one; null = current.';

create type intake.replay_configuration as enum ('current', 'dispatched');
comment on type intake.replay_configuration is
  'Which configuration a replay is dispatched with: the webhook''s current one, or the one the original delivery was dispatched with.';

-- a bulk replay replays every original with the same choice
alter table intake.bulk_replays add column configuration intake.replay_configuration not null default 'current';
comment on column intake.bulk_replays.configuration is
  'Which configuration each replay is dispatched with (intake.replay_delivery''s argument); with dispatched, an original that was never dispatched counts as failed.';

-- ───────────────────────────── mapping previews for psql ─────────────────────────────
-- The dry run evaluates JSONata, which runs in Node; a DBA asks for one with
-- intake.request_mapping_preview(), which stores the request here and enqueues a
-- preview_mapping job; the worker writes the result into the same row.
create table intake.mapping_previews (
  tenant uuid not null references psa.tenants on delete cascade,
  preview_id uuid not null default gen_random_uuid(),
  inbound_webhook_id uuid not null,
  -- the draft handler, as the APIs' previewMapping takes it
  handler jsonb not null,
  -- the test input: a delivery of the webhook, or a body; neither → the captured sample
  delivery_id uuid,
  body jsonb,
  status text not null default 'pending' check (status in ('pending', 'done', 'failed')),
  -- the MappingPreview (source, input, fields, outcome, summary, ok, envelope), as the REST API answers it
  result jsonb,
  error_message text,
  requested_at timestamptz not null default now(),
  finished_at timestamptz,
  primary key (tenant, preview_id),
  foreign key (tenant, inbound_webhook_id) references intake.inbound_webhooks (tenant, inbound_webhook_id) on delete cascade
);
create index mapping_previews_webhook_idx on intake.mapping_previews (tenant, inbound_webhook_id);
comment on table intake.mapping_previews is
  'Dry runs a DBA requested with intake.request_mapping_preview(); the worker fills in result. Kept for a day.';

-- ───────────────────────────── row-level security and grants ─────────────────────────────
do $$
declare
  t regclass;
begin
  foreach t in array array['intake.inbound_webhook_versions', 'intake.mapping_previews']::regclass[] loop
    execute format('alter table %s enable row level security', t);
    execute format('create policy tenant_isolation on %s using (tenant = intake.current_tenant()) with check (tenant = intake.current_tenant())', t);
    execute format('create policy need_read on %s as restrictive for select to intake_user using ((select intake.has_permission(''inbound_webhook'', ''read'')))', t);
  end loop;
end
$$;
create policy need_read_to_request on intake.mapping_previews as restrictive for insert to intake_user
  with check ((select intake.has_permission('inbound_webhook', 'read')));

grant select on intake.inbound_webhook_versions to intake_user, intake_app;
grant select, insert on intake.mapping_previews to intake_user;
grant select, update, delete on intake.mapping_previews to intake_app;
