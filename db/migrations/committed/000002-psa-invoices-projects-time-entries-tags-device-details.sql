--! Previous: sha1:f956b3f4b896fe9179f90bb5830f702415ba2740
--! Hash: sha1:beb8f0d4432d3b9e4fbed6d86f4fca8b7e719ea3
--! Message: psa invoices, projects, time entries, tags, device details

-- The host PSA's entities that issue 3's actions write. Same rules as 000001: tenant first in
-- every key, composite foreign keys, RLS with the tenant_isolation policy, grants to intake_app.
-- No external_ref columns anywhere: external ids live in psa.tenant_external_entity_mappings.
-- updated_at is set by whoever writes the row (as for tickets), not by triggers.

-- ───────────────────────────── lookups on existing tables ─────────────────────────────

-- RMM device matching: by serial (assets_serial_idx, 000001) or by hostname, case-insensitively.
create index assets_name_idx on psa.assets (tenant, lower(name));
-- Contact matching by email (not unique: one person can be a contact of two clients).
create index contacts_email_idx on psa.contacts (tenant, lower(email)) where email is not null;
-- Lets a row that must point at a status of one type say so in its foreign key
-- (project_tasks → (tenant, status_id, status_type)).
create unique index statuses_id_type_key on psa.statuses (tenant, status_id, status_type);

-- ───────────────────────────── tickets: comments ─────────────────────────────

create table psa.ticket_comments (
  tenant uuid not null references psa.tenants on delete cascade,
  comment_id uuid not null default gen_random_uuid(),
  ticket_id uuid not null,
  body text not null check (length(body) between 1 and 100000),
  -- internal notes are visible to the MSP's staff only; public ones to the client too
  is_internal boolean not null default true,
  -- who wrote it as the sender tells it ("Datadog", "jsmith via n8n"), when not a PSA user
  author_label text check (length(author_label) between 1 and 200),
  author_user_id uuid,
  source text not null default 'manual',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant, comment_id),
  foreign key (tenant, ticket_id) references psa.tickets (tenant, ticket_id) on delete cascade,
  foreign key (tenant, author_user_id) references psa.users (tenant, user_id)
);
create index ticket_comments_ticket_idx on psa.ticket_comments (tenant, ticket_id, created_at);

-- ───────────────────────────── invoices ─────────────────────────────

create table psa.invoices (
  tenant uuid not null references psa.tenants on delete cascade,
  invoice_id uuid not null default gen_random_uuid(),
  invoice_number text not null check (length(invoice_number) between 1 and 100),
  client_id uuid not null,
  status text not null default 'draft'
    check (status in ('draft', 'sent', 'partially_paid', 'paid', 'overdue', 'cancelled', 'void')),
  issue_date date not null default current_date,
  due_date date,
  currency char(3) not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
  subtotal numeric(14,2) not null default 0 check (subtotal >= 0),
  tax numeric(14,2) not null default 0 check (tax >= 0),
  total numeric(14,2) not null default 0 check (total >= 0),
  -- the sum of psa.invoice_payments, kept by whoever records a payment (in the same transaction);
  -- may exceed total (an overpayment becomes a credit)
  amount_paid numeric(14,2) not null default 0 check (amount_paid >= 0),
  -- when the balance reached zero
  paid_at timestamptz,
  notes text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant, invoice_id),
  unique (tenant, invoice_number),
  foreign key (tenant, client_id) references psa.clients (tenant, client_id),
  constraint invoices_due_after_issue check (due_date is null or due_date >= issue_date),
  constraint invoices_paid_has_paid_at check (status <> 'paid' or paid_at is not null)
);
create index invoices_client_idx on psa.invoices (tenant, client_id);
create index invoices_open_due_idx on psa.invoices (tenant, due_date)
  where status in ('sent', 'partially_paid', 'overdue');

create table psa.invoice_lines (
  tenant uuid not null references psa.tenants on delete cascade,
  line_id uuid not null default gen_random_uuid(),
  invoice_id uuid not null,
  line_number int not null default 1 check (line_number > 0),
  description text not null check (length(description) between 1 and 2000),
  -- negative quantities or prices are credits and discounts
  quantity numeric(12,4) not null default 1,
  unit_price numeric(14,2) not null default 0,
  amount numeric(14,2) not null,
  is_taxable boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant, line_id),
  foreign key (tenant, invoice_id) references psa.invoices (tenant, invoice_id) on delete cascade
);
create index invoice_lines_invoice_idx on psa.invoice_lines (tenant, invoice_id, line_number);

-- One row per payment received; partial payments are several rows. A financial record: deleting
-- an invoice that has payments is refused.
create table psa.invoice_payments (
  tenant uuid not null references psa.tenants on delete cascade,
  payment_id uuid not null default gen_random_uuid(),
  invoice_id uuid not null,
  amount numeric(14,2) not null check (amount > 0),
  paid_at timestamptz not null default now(),
  -- the payment's id at its source (charge id, transaction number): a repeated reference for the
  -- same invoice is the same payment and cannot be recorded twice
  reference text check (length(reference) between 1 and 500),
  method text check (length(method) between 1 and 100),
  created_at timestamptz not null default now(),
  primary key (tenant, payment_id),
  foreign key (tenant, invoice_id) references psa.invoices (tenant, invoice_id)
);
create index invoice_payments_invoice_idx on psa.invoice_payments (tenant, invoice_id, paid_at);
create unique index invoice_payments_reference_key on psa.invoice_payments (tenant, invoice_id, reference)
  where reference is not null;

-- ───────────────────────────── projects ─────────────────────────────

create table psa.projects (
  tenant uuid not null references psa.tenants on delete cascade,
  project_id uuid not null default gen_random_uuid(),
  project_name text not null check (length(project_name) between 1 and 500),
  description text,
  client_id uuid not null,
  status text not null default 'active'
    check (status in ('planned', 'active', 'on_hold', 'completed', 'cancelled')),
  start_date date,
  end_date date,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant, project_id),
  foreign key (tenant, client_id) references psa.clients (tenant, client_id),
  constraint projects_end_after_start check (end_date is null or start_date is null or end_date >= start_date)
);
create index projects_client_idx on psa.projects (tenant, client_id);

create table psa.project_phases (
  tenant uuid not null references psa.tenants on delete cascade,
  phase_id uuid not null default gen_random_uuid(),
  project_id uuid not null,
  phase_name text not null check (length(phase_name) between 1 and 500),
  description text,
  order_number int not null default 0,
  start_date date,
  end_date date,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant, phase_id),
  -- the target of project_tasks' (tenant, project_id, phase_id): a task's phase is of its project
  unique (tenant, project_id, phase_id),
  foreign key (tenant, project_id) references psa.projects (tenant, project_id) on delete cascade,
  constraint project_phases_end_after_start check (end_date is null or start_date is null or end_date >= start_date)
);
create index project_phases_project_idx on psa.project_phases (tenant, project_id, order_number);

create table psa.project_tasks (
  tenant uuid not null references psa.tenants on delete cascade,
  task_id uuid not null default gen_random_uuid(),
  project_id uuid not null,
  phase_id uuid,
  task_name text not null check (length(task_name) between 1 and 500),
  description text,
  status_id uuid not null,
  -- always 'project_task': carried so the foreign key below refuses a ticket status
  status_type text not null default 'project_task' check (status_type = 'project_task'),
  assigned_to uuid,
  estimated_hours numeric(8,2) check (estimated_hours >= 0),
  due_date date,
  -- set when the task moves to a closed status, cleared when it reopens
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant, task_id),
  foreign key (tenant, project_id) references psa.projects (tenant, project_id) on delete cascade,
  -- deleting a phase leaves its tasks in the project, without a phase
  foreign key (tenant, project_id, phase_id) references psa.project_phases (tenant, project_id, phase_id)
    on delete set null (phase_id),
  foreign key (tenant, status_id, status_type) references psa.statuses (tenant, status_id, status_type),
  foreign key (tenant, assigned_to) references psa.users (tenant, user_id)
);
create index project_tasks_project_idx on psa.project_tasks (tenant, project_id, phase_id);
create index project_tasks_assignee_idx on psa.project_tasks (tenant, assigned_to) where assigned_to is not null;

-- ───────────────────────────── time entries ─────────────────────────────

create table psa.time_entries (
  tenant uuid not null references psa.tenants on delete cascade,
  entry_id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  work_item_type text not null check (work_item_type in ('ticket', 'project_task')),
  ticket_id uuid,
  task_id uuid,
  -- the day the work counts for (time sheets); the date of start_time when that is known
  work_date date not null default current_date,
  start_time timestamptz,
  end_time timestamptz,
  duration_minutes int not null check (duration_minutes > 0),
  billable boolean not null default true,
  notes text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant, entry_id),
  foreign key (tenant, user_id) references psa.users (tenant, user_id),
  foreign key (tenant, ticket_id) references psa.tickets (tenant, ticket_id),
  foreign key (tenant, task_id) references psa.project_tasks (tenant, task_id),
  -- exactly one work item, the one work_item_type names
  constraint time_entries_one_work_item check (case work_item_type
           when 'ticket' then ticket_id is not null and task_id is null
           when 'project_task' then task_id is not null and ticket_id is null
         end),
  constraint time_entries_end_needs_start check (end_time is null or start_time is not null),
  constraint time_entries_end_after_start check (end_time is null or end_time > start_time)
);
create index time_entries_user_idx on psa.time_entries (tenant, user_id, work_date);
create index time_entries_ticket_idx on psa.time_entries (tenant, ticket_id) where ticket_id is not null;
create index time_entries_task_idx on psa.time_entries (tenant, task_id) where task_id is not null;

-- ───────────────────────────── tags ─────────────────────────────

create table psa.tags (
  tenant uuid not null references psa.tenants on delete cascade,
  tag_id uuid not null default gen_random_uuid(),
  tag_text text not null check (length(tag_text) between 1 and 100 and tag_text = btrim(tag_text)),
  color text,
  created_at timestamptz not null default now(),
  primary key (tenant, tag_id)
);
-- One tag per text, whatever its case: "Urgent" and "urgent" are the same tag.
create unique index tags_text_key on psa.tags (tenant, lower(tag_text));

-- A tag on an entity. tagged_type uses the names of alga_entity_type; tagged_id is that entity's
-- id. Polymorphic, so there is no foreign key to the tagged row: whoever deletes an entity
-- deletes its links.
create table psa.tag_links (
  tenant uuid not null references psa.tenants on delete cascade,
  tag_id uuid not null,
  tagged_type text not null
    check (tagged_type in ('ticket', 'client', 'contact', 'asset', 'invoice', 'project', 'project_task', 'time_entry')),
  tagged_id uuid not null,
  created_at timestamptz not null default now(),
  primary key (tenant, tag_id, tagged_type, tagged_id),
  foreign key (tenant, tag_id) references psa.tags (tenant, tag_id) on delete cascade
);
create index tag_links_tagged_idx on psa.tag_links (tenant, tagged_type, tagged_id);

-- ───────────────────────────── assets: RMM device details ─────────────────────────────

-- What the RMM device-snapshot normalizer knows about an asset, one row per device asset,
-- replaced as a whole by each snapshot whichever source sent it. Values are normalized:
-- ip_addresses valid inets, mac_addresses lower-case colon-separated, sizes in GB.
create table psa.asset_device_details (
  tenant uuid not null references psa.tenants on delete cascade,
  asset_id uuid not null,
  hostname text,
  serial_number text,
  os_name text,
  os_version text,
  manufacturer text,
  model text,
  ip_addresses inet[] not null default '{}',
  mac_addresses text[] not null default '{}',
  cpu_model text,
  cpu_cores int check (cpu_cores > 0),
  ram_gb numeric(10,2) check (ram_gb >= 0),
  disk_total_gb numeric(12,2) check (disk_total_gb >= 0),
  disk_free_gb numeric(12,2) check (disk_free_gb >= 0),
  logged_in_user text,
  agent_status text not null default 'unknown' check (agent_status in ('online', 'offline', 'overdue', 'unknown')),
  last_seen_at timestamptz,
  -- who sent the snapshot: a bundled integration's integration_type or `webhook:<namespace>`
  source text not null check (length(source) between 1 and 200),
  -- the snapshot as received, for what the normalized columns leave out
  raw jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant, asset_id),
  foreign key (tenant, asset_id) references psa.assets (tenant, asset_id) on delete cascade
);
create index asset_device_details_hostname_idx on psa.asset_device_details (tenant, lower(hostname)) where hostname is not null;
create index asset_device_details_serial_idx on psa.asset_device_details (tenant, serial_number) where serial_number is not null;

-- ───────────────────────────── row-level security ─────────────────────────────
-- Every new tenant table: RLS on, the policy written before the grant.

do $$
declare
  t regclass;
begin
  foreach t in array array[
    'psa.ticket_comments', 'psa.invoices', 'psa.invoice_lines', 'psa.invoice_payments', 'psa.projects',
    'psa.project_phases', 'psa.project_tasks', 'psa.time_entries', 'psa.tags', 'psa.tag_links',
    'psa.asset_device_details'
  ]::regclass[] loop
    execute format('alter table %s enable row level security', t);
    execute format('create policy tenant_isolation on %s using (tenant = intake.current_tenant()) with check (tenant = intake.current_tenant())', t);
  end loop;
end
$$;

grant select, insert, update, delete on
  psa.ticket_comments, psa.invoices, psa.invoice_lines, psa.invoice_payments, psa.projects,
  psa.project_phases, psa.project_tasks, psa.time_entries, psa.tags, psa.tag_links,
  psa.asset_device_details
  to intake_app;
