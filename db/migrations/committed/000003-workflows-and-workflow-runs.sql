--! Previous: sha1:beb8f0d4432d3b9e4fbed6d86f4fca8b7e719ea3
--! Hash: sha1:083a2f4ffc2b4bb7df6613014c15224e1e1f7a8d
--! Message: workflows and workflow runs

-- Workflows and their runs (issue 5, PRD "Workflow Handler"). Same rules as 000001: tenant first
-- in every key, composite foreign keys, RLS with the tenant_isolation policy, grants to intake_app.

-- ───────────────────────────── workflows ─────────────────────────────

create table intake.workflows (
  tenant uuid not null references psa.tenants on delete cascade,
  workflow_id uuid not null default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  description text check (length(description) <= 2000),
  -- the executable part of the definition file: {"steps": [...]} (name and description are the
  -- columns above); validated by worker/workflows/definition.ts before it is stored
  definition jsonb not null check (jsonb_typeof(definition) = 'object' and jsonb_typeof(definition->'steps') = 'array'),
  -- bumped whenever the definition changes; each run records the version (and a copy of the
  -- definition) it started with
  version int not null default 1 check (version > 0),
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant, workflow_id)
);
create unique index workflows_name_key on intake.workflows (tenant, lower(name));
comment on table intake.workflows is
  'Ordered steps that call registered actions with JSONata inputs; a webhook with handler_type workflow starts a run of one.';

create function intake_private.tg_touch_workflow() returns trigger
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
begin
  new.updated_at := now();
  if new.definition is distinct from old.definition then
    new.version := old.version + 1;
  end if;
  return new;
end
$$;
comment on function intake_private.tg_touch_workflow() is
  'Keeps a workflow''s updated_at current and bumps its version when its definition changes.';

create trigger _100_touch before update on intake.workflows
  for each row execute function intake_private.tg_touch_workflow();

-- ───────────────────────────── workflow runs ─────────────────────────────
-- A run outlives its workflow: deleting a workflow sets its runs' workflow_id to null (they keep
-- workflow_version and the definition they ran), and new deliveries for it fail with "workflow
-- <id> was deleted". Likewise a run outlives its delivery (pruned, or gone with its webhook):
-- delivery_id becomes null, and a run still executing then fails.

create table intake.workflow_runs (
  tenant uuid not null references psa.tenants on delete cascade,
  run_id uuid not null default gen_random_uuid(),
  workflow_id uuid,
  workflow_version int not null check (workflow_version > 0),
  -- the workflow's definition at the start of the run: a retry resumes the same steps even if
  -- the workflow was edited or deleted meanwhile
  definition jsonb not null,
  delivery_id uuid,
  -- the envelope: {source, body, headers, verified, delivery_id, idempotency_key, received_at}
  input jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'running', 'succeeded', 'failed')),
  -- by step id: {status: succeeded|skipped|failed, output | error, finished_at}
  step_results jsonb not null default '{}' check (jsonb_typeof(step_results) = 'object'),
  variables jsonb not null default '{}' check (jsonb_typeof(variables) = 'object'),
  error_message text,
  failed_step text,
  -- attempts that failed with a transient error and were retried
  retry_count int not null default 0 check (retry_count >= 0),
  started_at timestamptz,
  finished_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (tenant, run_id),
  foreign key (tenant, workflow_id) references intake.workflows (tenant, workflow_id) on delete set null (workflow_id),
  foreign key (tenant, delivery_id) references intake.inbound_webhook_deliveries (tenant, delivery_id) on delete set null (delivery_id),
  constraint workflow_runs_failed_has_error check (status <> 'failed' or error_message is not null),
  constraint workflow_runs_finished check ((status in ('succeeded', 'failed')) = (finished_at is not null))
);
-- One run per delivery (a replay is a new delivery, so a new run).
create unique index workflow_runs_delivery_key on intake.workflow_runs (tenant, delivery_id);
create index workflow_runs_workflow_idx on intake.workflow_runs (tenant, workflow_id, created_at desc);
create index workflow_runs_created_idx on intake.workflow_runs (tenant, created_at desc, run_id desc);
create index workflow_runs_unfinished_idx on intake.workflow_runs (tenant, created_at) where status in ('pending', 'running');
comment on table intake.workflow_runs is
  'One run of a workflow, started by a delivery; step_results records each step as it commits, so a retry resumes after the last one.';

-- ───────────────────────────── row-level security ─────────────────────────────

do $$
declare
  t regclass;
begin
  foreach t in array array['intake.workflows', 'intake.workflow_runs']::regclass[] loop
    execute format('alter table %s enable row level security', t);
    execute format('create policy tenant_isolation on %s using (tenant = intake.current_tenant()) with check (tenant = intake.current_tenant())', t);
  end loop;
end
$$;

grant select, insert, update, delete on intake.workflows to intake_app;
grant select, insert, update on intake.workflow_runs to intake_app;
