--! Previous: sha1:7c2deedf401b6163f78446d504ce97961db4784b
--! Hash: sha1:9adba8161f6e436252d2fca7e6e00353de88ed87
--! Message: outbound webhooks: subscriptions, secrets, events emitted by triggers, deliveries, attempts, recoveries

-- Outbound webhooks (issue 14): the inbound spine in reverse. A change to a PSA entity (or an
-- inbound delivery / workflow run that fails) writes an event row in its own transaction, by a
-- trigger, so an event exists if and only if its change committed (a change made in psql too).
-- The triggers write rows of the same tenant only and never call add_job (design rule 3): the
-- worker's sweeper (worker/outbound/sweeper.ts → intake_private.enqueue_outbound_fanouts) adds
-- one outbound_fanout job per new event, which inserts one delivery row per matching
-- subscription and adds their outbound_deliver jobs in one add_jobs call. Attempts are kept one
-- row each. Same rules as 000001: tenant first in every key, composite foreign keys, RLS with
-- the policy written before the grants.

-- ───────────────────────────── subscriptions ─────────────────────────────

create table intake.outbound_subscriptions (
  tenant uuid not null references psa.tenants on delete cascade,
  subscription_id uuid not null default gen_random_uuid(),
  url text not null check (length(url) between 1 and 2048),
  description text check (length(description) <= 1000),
  -- exact names, "entity.*" or "*" (intake_private.outbound_event_matches)
  event_types text[] not null check (cardinality(event_types) between 1 and 100),
  -- sent with every attempt; webhook-* names are refused by the API (Node checks the shape)
  headers jsonb not null default '{}' check (jsonb_typeof(headers) = 'object'),
  -- attempts per minute; null = no limit
  rate_limit_per_minute int check (rate_limit_per_minute is null or rate_limit_per_minute between 1 and 100000),
  is_active boolean not null default true,
  -- set when Intake disabled it (410 Gone, or failing continuously for INTAKE_OUTBOUND_DISABLE_AFTER_HOURS)
  disabled_reason text,
  auto_disabled_at timestamptz,
  -- the first failed attempt of the current unbroken run of failures; cleared by a success
  failing_since timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  created_by uuid,
  primary key (tenant, subscription_id),
  foreign key (tenant, created_by) references psa.users (tenant, user_id) on delete set null (created_by)
);
comment on table intake.outbound_subscriptions is
  'An outbound webhook subscription: where matching events are POSTed, signed per Standard Webhooks. Secrets are in intake_private, never here.';
create index outbound_subscriptions_created_by_idx on intake.outbound_subscriptions (tenant, created_by) where created_by is not null;

create table intake_private.outbound_subscription_secrets (
  tenant uuid not null,
  secret_id uuid not null default gen_random_uuid(),
  subscription_id uuid not null,
  -- AES-256-GCM under INTAKE_MASTER_KEY (core/crypto.ts), the tenant and subscription as AAD
  secret bytea not null,
  created_at timestamptz not null default now(),
  -- set when rotated out: the secret still signs until then
  expires_at timestamptz,
  primary key (tenant, secret_id),
  foreign key (tenant, subscription_id) references intake.outbound_subscriptions (tenant, subscription_id) on delete cascade
);
create index outbound_subscription_secrets_subscription_idx on intake_private.outbound_subscription_secrets (tenant, subscription_id);

-- ───────────────────────────── events ─────────────────────────────

create table intake.outbound_events (
  tenant uuid not null references psa.tenants on delete cascade,
  -- also the webhook-id of every delivery of the event (stable across attempts)
  event_id uuid not null default gen_random_uuid(),
  event_type text not null check (event_type ~ '^[a-z_]+(\.[a-z_]+)+$'),
  entity_type text,
  entity_id text,
  -- the entity's version after the change (intake.outbound_entity_versions): receivers discard
  -- an event older than one they have seen, since no order is promised between events
  entity_version bigint,
  -- the body sent, exactly: {type, timestamp, data}
  payload jsonb not null,
  is_test boolean not null default false,
  created_at timestamptz not null default now(),
  -- set by the sweeper in the transaction that adds the fan-out job (or that finds no subscriber)
  fanout_enqueued_at timestamptz,
  -- set by the fan-out job, with how many deliveries it made
  fanned_out_at timestamptz,
  delivery_count int,
  primary key (tenant, event_id)
);
comment on table intake.outbound_events is
  'An outbound event, written by a trigger in the transaction of the change that caused it; payload is the body every subscription receives.';
create index outbound_events_created_idx on intake.outbound_events (tenant, created_at desc, event_id desc);
create index outbound_events_type_created_idx on intake.outbound_events (tenant, event_type, created_at desc);
-- what the sweeper reads: events no fan-out job was added for yet
create index outbound_events_unswept_idx on intake.outbound_events (created_at) where fanout_enqueued_at is null;
-- retention by age
create index outbound_events_age_idx on intake.outbound_events (created_at);

-- One counter per entity, bumped by each change's trigger; the row lock orders two changes of
-- one entity the way their commits are ordered (they already wait on the entity's row).
create table intake.outbound_entity_versions (
  tenant uuid not null references psa.tenants on delete cascade,
  entity_type text not null,
  entity_id text not null,
  version bigint not null,
  primary key (tenant, entity_type, entity_id)
);
comment on table intake.outbound_entity_versions is 'The last version number given to an entity by its events (outbound_events.entity_version).';

-- ───────────────────────────── deliveries and attempts ─────────────────────────────

create table intake.outbound_deliveries (
  tenant uuid not null,
  delivery_id uuid not null default gen_random_uuid(),
  event_id uuid not null,
  subscription_id uuid not null,
  event_type text not null,
  status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
  attempt_count int not null default 0,
  next_attempt_at timestamptz,
  last_attempt_at timestamptz,
  last_response_status int,
  last_error text,
  created_at timestamptz not null default now(),
  succeeded_at timestamptz,
  primary key (tenant, delivery_id),
  -- a fan-out that runs twice makes no second delivery
  unique (tenant, event_id, subscription_id),
  foreign key (tenant, event_id) references intake.outbound_events (tenant, event_id) on delete cascade,
  foreign key (tenant, subscription_id) references intake.outbound_subscriptions (tenant, subscription_id) on delete cascade
);
comment on table intake.outbound_deliveries is
  'One event to one subscription: its status, attempts so far and the next scheduled attempt.';
create index outbound_deliveries_subscription_created_idx on intake.outbound_deliveries (tenant, subscription_id, created_at desc, delivery_id desc);
create index outbound_deliveries_created_idx on intake.outbound_deliveries (tenant, created_at desc, delivery_id desc);
-- recover (failed deliveries of a subscription since T) and the DBA view
create index outbound_deliveries_failed_idx on intake.outbound_deliveries (tenant, subscription_id, created_at) where status = 'failed';

create table intake.outbound_attempts (
  tenant uuid not null,
  attempt_id uuid not null default gen_random_uuid(),
  delivery_id uuid not null,
  subscription_id uuid not null,
  attempt_number int not null check (attempt_number >= 1),
  trigger text not null default 'scheduled' check (trigger in ('scheduled', 'manual', 'test')),
  started_at timestamptz not null,
  duration_ms int,
  request_url text not null,
  request_headers jsonb not null,
  response_status int,
  response_headers jsonb,
  -- the first 20 KB
  response_body text,
  -- why it failed when there was no response (or why a response counts as a failure)
  error_message text,
  succeeded boolean not null,
  primary key (tenant, attempt_id),
  foreign key (tenant, delivery_id) references intake.outbound_deliveries (tenant, delivery_id) on delete cascade,
  foreign key (tenant, subscription_id) references intake.outbound_subscriptions (tenant, subscription_id) on delete cascade
);
comment on table intake.outbound_attempts is 'One HTTP attempt of an outbound delivery: what was sent and what came back.';
create index outbound_attempts_delivery_idx on intake.outbound_attempts (tenant, delivery_id, attempt_number);
-- per-subscription rate limit (attempts in the last minute) and foreign key on delete
create index outbound_attempts_subscription_started_idx on intake.outbound_attempts (tenant, subscription_id, started_at);
-- retention by age
create index outbound_attempts_age_idx on intake.outbound_attempts (started_at);

-- ───────────────────────────── recoveries ─────────────────────────────

create table intake.outbound_recoveries (
  tenant uuid not null,
  recovery_id uuid not null default gen_random_uuid(),
  subscription_id uuid not null,
  since timestamptz not null,
  -- only deliveries created before this (the start's transaction time) are re-sent
  cutoff_at timestamptz not null,
  total int not null check (total >= 0),
  processed int not null default 0,
  status text not null default 'running' check (status in ('running', 'finished', 'failed')),
  error_message text,
  -- keyset position: the last delivery handled, in (created_at, delivery_id) order
  last_created_at timestamptz,
  last_delivery_id uuid,
  started_by uuid,
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  primary key (tenant, recovery_id),
  foreign key (tenant, subscription_id) references intake.outbound_subscriptions (tenant, subscription_id) on delete cascade,
  foreign key (tenant, started_by) references psa.users (tenant, user_id) on delete set null (started_by),
  constraint outbound_recoveries_progress check (processed between 0 and total),
  constraint outbound_recoveries_finished check ((status = 'running') = (finished_at is null))
);
comment on table intake.outbound_recoveries is
  'A recovery: every failed delivery of a subscription created since a time, re-sent by a job in chunks; total and processed show its progress.';
create index outbound_recoveries_subscription_idx on intake.outbound_recoveries (tenant, subscription_id, started_at desc);
create index outbound_recoveries_started_by_idx on intake.outbound_recoveries (tenant, started_by) where started_by is not null;

-- ───────────────────────────── events from triggers ─────────────────────────────
-- Trigger functions live here, not in db/functions/, because the triggers need them to exist.
-- Security definer (pinned search_path) so that whoever makes the change (intake_app in an
-- action, the owner in psql) emits without a grant on the event tables; each writes rows of
-- NEW's tenant only and calls no add_job (design rule 3).

-- Strings over this many characters are cut when a payload would pass 20,000 bytes.
create function intake_private.outbound_trim(p_value jsonb) returns jsonb
  language sql immutable parallel safe
  set search_path = pg_catalog
  as $$
  select coalesce(jsonb_object_agg(k, case when jsonb_typeof(v) = 'string' and length(v #>> '{}') > 1000
                                           then to_jsonb(left(v #>> '{}', 1000) || '…') else v end), '{}'::jsonb)
    from jsonb_each(p_value) e (k, v)
$$;
comment on function intake_private.outbound_trim(jsonb) is
  'An object with every string longer than 1,000 characters cut to 1,000 (and an ellipsis): keeps event payloads under ~20 KB.';

-- Writes one event: bumps the entity's version, builds {type, timestamp, data} with data
-- {id, version, object, changes?}, cut to stay under ~20 KB (data.truncated says so).
create function intake_private.emit_outbound_event(
  p_tenant uuid, p_event_type text, p_entity_type text, p_entity_id text, p_object jsonb, p_changes jsonb, p_bump boolean
) returns void
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_version bigint;
  v_data jsonb;
  v_id uuid := gen_random_uuid();
begin
  if p_bump then
    insert into intake.outbound_entity_versions as v (tenant, entity_type, entity_id, version)
    values (p_tenant, p_entity_type, p_entity_id, 1)
    on conflict (tenant, entity_type, entity_id) do update set version = v.version + 1
    returning v.version into v_version;
  else
    select v.version into v_version from intake.outbound_entity_versions v
     where v.tenant = p_tenant and v.entity_type = p_entity_type and v.entity_id = p_entity_id;
  end if;
  v_data := jsonb_build_object('id', p_entity_id, 'entity', p_entity_type, 'version', v_version, 'object', p_object)
         || case when p_changes is null then '{}'::jsonb else jsonb_build_object('changes', p_changes) end;
  if octet_length(v_data::text) > 19000 then
    v_data := jsonb_build_object('id', p_entity_id, 'entity', p_entity_type, 'version', v_version,
                                 'object', intake_private.outbound_trim(p_object), 'truncated', true)
           || case when p_changes is null then '{}'::jsonb
                   else jsonb_build_object('changes', (select coalesce(jsonb_object_agg(k, intake_private.outbound_trim(v)), '{}')
                                                         from jsonb_each(p_changes) c (k, v))) end;
  end if;
  insert into intake.outbound_events (tenant, event_id, event_type, entity_type, entity_id, entity_version, payload)
  values (p_tenant, v_id, p_event_type, p_entity_type, p_entity_id, v_version,
          jsonb_build_object('type', p_event_type,
                             'timestamp', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                             'data', v_data));
end
$$;
comment on function intake_private.emit_outbound_event(uuid, text, text, text, jsonb, jsonb, boolean) is
  'Writes an outbound event of the tenant (called by the outbound triggers); bumps the entity''s version unless told not to.';

-- The change's columns: {column: {from, to}} for each column that changed, except updated_at.
create function intake_private.outbound_changes(p_old jsonb, p_new jsonb) returns jsonb
  language sql immutable parallel safe
  set search_path = pg_catalog
  as $$
  select coalesce(jsonb_object_agg(n.key, jsonb_build_object('from', p_old->n.key, 'to', n.value)), '{}'::jsonb)
    from jsonb_each(p_new) n
   where n.key not in ('updated_at', 'tenant') and p_old->n.key is distinct from n.value
$$;
comment on function intake_private.outbound_changes(jsonb, jsonb) is 'The columns that differ between two row images, as {column: {from, to}}.';

-- One trigger function for the PSA entities. TG_ARGV: entity name, id column, and the column
-- whose change is a status change (or '' when the entity has none).
create function intake_private.tg_outbound_entity_event() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_entity text := tg_argv[0];
  v_new jsonb := to_jsonb(new) - 'tenant';
  v_old jsonb;
  v_id text := v_new->>tg_argv[1];
  v_changes jsonb;
  v_status_column text := nullif(tg_argv[2], '');
begin
  if tg_op = 'INSERT' then
    if v_entity = 'ticket_comment' then
      perform intake_private.emit_outbound_event(new.tenant, 'ticket.comment_added', v_entity, v_id, v_new, null, true);
    elsif v_entity = 'tag_link' then
      perform intake_private.emit_outbound_event(new.tenant, 'tag.added', v_entity,
        (v_new->>'tag_id') || ':' || (v_new->>'tagged_type') || ':' || (v_new->>'tagged_id'),
        v_new || jsonb_build_object('tag_text', (select t.tag_text from psa.tags t where t.tenant = new.tenant and t.tag_id = (v_new->>'tag_id')::uuid)),
        null, true);
    elsif v_entity <> 'invoice' then
      perform intake_private.emit_outbound_event(new.tenant, v_entity || '.created', v_entity, v_id, v_new, null, true);
    elsif v_new->>'status' = 'paid' then
      perform intake_private.emit_outbound_event(new.tenant, 'invoice.paid', v_entity, v_id, v_new, null, true);
    end if;
    return null;
  end if;

  v_old := to_jsonb(old) - 'tenant';
  v_changes := intake_private.outbound_changes(v_old, v_new);
  if v_changes = '{}'::jsonb then
    return null; -- nothing but updated_at: no event
  end if;
  -- the first event of the change bumps the version; the others of the same change share it
  if v_entity in ('ticket', 'client', 'contact', 'asset') then
    perform intake_private.emit_outbound_event(new.tenant, v_entity || '.updated', v_entity, v_id, v_new, v_changes, true);
    if v_status_column is not null and v_changes ? v_status_column then
      perform intake_private.emit_outbound_event(new.tenant, v_entity || '.status_changed', v_entity, v_id, v_new, v_changes, false);
    end if;
  elsif v_status_column is not null and v_changes ? v_status_column then
    -- invoice, project_task: only their status changes are events
    perform intake_private.emit_outbound_event(new.tenant, v_entity || '.status_changed', v_entity, v_id, v_new, v_changes, true);
    if v_entity = 'invoice' and v_new->>'status' = 'paid' then
      perform intake_private.emit_outbound_event(new.tenant, 'invoice.paid', v_entity, v_id, v_new, v_changes, false);
    end if;
  end if;
  return null;
end
$$;
comment on function intake_private.tg_outbound_entity_event() is
  'Writes the outbound events of a change to a PSA entity (created, updated, status_changed, comment_added, tag.added, invoice.paid) in its transaction.';

create trigger _800_outbound_event after insert or update on psa.tickets
  for each row execute function intake_private.tg_outbound_entity_event('ticket', 'ticket_id', 'status_id');
create trigger _800_outbound_event after insert on psa.ticket_comments
  for each row execute function intake_private.tg_outbound_entity_event('ticket_comment', 'comment_id', '');
create trigger _800_outbound_event after insert or update on psa.clients
  for each row execute function intake_private.tg_outbound_entity_event('client', 'client_id', '');
create trigger _800_outbound_event after insert or update on psa.contacts
  for each row execute function intake_private.tg_outbound_entity_event('contact', 'contact_name_id', '');
create trigger _800_outbound_event after insert or update on psa.assets
  for each row execute function intake_private.tg_outbound_entity_event('asset', 'asset_id', '');
create trigger _800_outbound_event after insert or update on psa.invoices
  for each row execute function intake_private.tg_outbound_entity_event('invoice', 'invoice_id', 'status');
create trigger _800_outbound_event after insert on psa.time_entries
  for each row execute function intake_private.tg_outbound_entity_event('time_entry', 'entry_id', '');
create trigger _800_outbound_event after insert or update on psa.project_tasks
  for each row execute function intake_private.tg_outbound_entity_event('project_task', 'task_id', 'status_id');
create trigger _800_outbound_event after insert on psa.tag_links
  for each row execute function intake_private.tg_outbound_entity_event('tag_link', 'tag_id', '');

-- Intake's own failures: an inbound delivery that became failed, a workflow run that did. The
-- request body, the run's input and definition are left out (they can be large; the API has them).
create function intake_private.tg_outbound_failure_event() returns trigger
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  if tg_table_name = 'inbound_webhook_deliveries' then
    if new.dispatch_status = 'failed' and (tg_op = 'INSERT' or old.dispatch_status is distinct from 'failed') then
      perform intake_private.emit_outbound_event(new.tenant, 'inbound.delivery.failed', 'inbound_delivery', new.delivery_id::text,
        to_jsonb(new) - '{tenant,request_body,request_body_text,request_headers,dedupe_active}'::text[], null, true);
    end if;
  elsif new.status = 'failed' and (tg_op = 'INSERT' or old.status is distinct from 'failed') then
    perform intake_private.emit_outbound_event(new.tenant, 'workflow_run.failed', 'workflow_run', new.run_id::text,
      to_jsonb(new) - '{tenant,input,definition,step_results,variables}'::text[], null, true);
  end if;
  return null;
end
$$;
comment on function intake_private.tg_outbound_failure_event() is
  'Writes inbound.delivery.failed and workflow_run.failed events in the transaction that fails the delivery or run.';

create trigger _800_outbound_event after insert or update of dispatch_status on intake.inbound_webhook_deliveries
  for each row execute function intake_private.tg_outbound_failure_event();
create trigger _800_outbound_event after insert or update of status on intake.workflow_runs
  for each row execute function intake_private.tg_outbound_failure_event();

-- ───────────────────────────── row-level security ─────────────────────────────

do $$
declare
  t regclass;
begin
  foreach t in array array[
    'intake.outbound_subscriptions', 'intake_private.outbound_subscription_secrets', 'intake.outbound_events',
    'intake.outbound_entity_versions', 'intake.outbound_deliveries', 'intake.outbound_attempts', 'intake.outbound_recoveries'
  ]::regclass[] loop
    execute format('alter table %s enable row level security', t);
    execute format('create policy tenant_isolation on %s using (tenant = intake.current_tenant()) with check (tenant = intake.current_tenant())', t);
  end loop;
end
$$;

-- intake_user: reads need outbound_webhook:read; writes go through the SQL API's functions
-- (security definer where intake_private or the queue is written), which check the permission.
create policy need_read on intake.outbound_subscriptions as restrictive for select to intake_user
  using ((select intake.has_permission('outbound_webhook', 'read')));
create policy need_update on intake.outbound_subscriptions as restrictive for update to intake_user
  using ((select intake.has_permission('outbound_webhook', 'update')));
create policy need_delete on intake.outbound_subscriptions as restrictive for delete to intake_user
  using ((select intake.has_permission('outbound_webhook', 'delete')));
create policy need_read on intake.outbound_events as restrictive for select to intake_user
  using ((select intake.has_permission('outbound_webhook', 'read')));
create policy need_read on intake.outbound_deliveries as restrictive for select to intake_user
  using ((select intake.has_permission('outbound_webhook', 'read')));
create policy need_read on intake.outbound_attempts as restrictive for select to intake_user
  using ((select intake.has_permission('outbound_webhook', 'read')));
create policy need_read on intake.outbound_recoveries as restrictive for select to intake_user
  using ((select intake.has_permission('outbound_webhook', 'read')));
create policy need_read on intake.outbound_entity_versions as restrictive for select to intake_user
  using ((select intake.has_permission('outbound_webhook', 'read')));

grant select, update, delete on intake.outbound_subscriptions to intake_user;
grant select on intake.outbound_events, intake.outbound_deliveries, intake.outbound_attempts,
  intake.outbound_recoveries, intake.outbound_entity_versions to intake_user;
grant select on intake.outbound_subscriptions, intake.outbound_events, intake.outbound_deliveries,
  intake.outbound_attempts, intake.outbound_recoveries to intake_app;
-- intake_private.outbound_subscription_secrets: no grant at all; only the owner reads secrets.

-- ───────────────────────────── permissions ─────────────────────────────
-- Every existing tenant's admin gets every outbound_webhook action and viewer gets read, as
-- intake.create_tenant() gives a new tenant.
insert into psa.role_permissions (tenant, role_id, resource, action)
select r.tenant, r.role_id, 'outbound_webhook', a.action
  from psa.roles r
  join (values ('admin', 'create'), ('admin', 'read'), ('admin', 'update'), ('admin', 'delete'), ('admin', 'replay'),
               ('viewer', 'read')) a (role, action)
    on a.role = r.name
on conflict do nothing;
