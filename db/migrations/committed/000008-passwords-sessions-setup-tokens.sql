--! Previous: sha1:371e43ebce5b5e8d0015682aec941f69c651349f
--! Hash: sha1:b2cd205ce231808447543eb2781fa618411d07fc
--! Message: passwords, browser sessions and one-time setup tokens for signing in to the web UI

-- Signing in (issue 11). A user may have a password (scrypt, core/passwords.ts) and browser
-- sessions; a session resolves to the same claims as an API key (intake_private.
-- authenticate_session), so the UI's GraphQL and REST calls run as intake_user under RLS exactly
-- as a key's do. Both tables live in intake_private: GraphQL never sees that schema, and no
-- role but the owner gets a grant on them (the lookups are security-definer functions or run as
-- the owner in the sign-in code). Same rules as 000001: tenant first in every key, composite
-- foreign keys, RLS with the tenant_isolation policy written before any grant.

create table intake_private.user_passwords (
  tenant uuid not null,
  user_id uuid not null,
  -- `scrypt$ln=15,r=8,p=1$<salt base64>$<hash base64>`: the parameters travel with the hash,
  -- so raising them later leaves existing passwords checkable
  password_hash text not null check (password_hash ~ '^scrypt\$ln=\d+,r=\d+,p=\d+\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$'),
  updated_at timestamptz not null default now(),
  primary key (tenant, user_id),
  foreign key (tenant, user_id) references psa.users (tenant, user_id) on delete cascade
);
comment on table intake_private.user_passwords is 'A user''s password as an scrypt hash with its parameters and salt; never the password.';

-- A session token is `is_<tenant uuid, 32 hex>_<43 characters of base64url>` (core/sessions.ts):
-- the tenant part lets the lookup filter by tenant first; only its SHA-256 digest is stored.
create table intake_private.sessions (
  tenant uuid not null,
  session_id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  token_hash bytea not null check (length(token_hash) = 32),
  created_at timestamptz not null default now(),
  -- written at most once a minute (authenticate_session); idle expiry counts from it
  last_seen_at timestamptz not null default now(),
  idle_timeout_seconds int not null check (idle_timeout_seconds > 0),
  -- absolute expiry, however active the session is
  expires_at timestamptz not null,
  revoked_at timestamptz,
  primary key (tenant, session_id),
  foreign key (tenant, user_id) references psa.users (tenant, user_id) on delete cascade
);
create unique index sessions_token_hash_key on intake_private.sessions (tenant, token_hash);
create index sessions_user_idx on intake_private.sessions (tenant, user_id);
comment on table intake_private.sessions is 'Browser sessions: a SHA-256 digest of the cookie''s token, idle and absolute expiry, revocation.';

do $$
declare
  t regclass;
begin
  foreach t in array array['intake_private.user_passwords', 'intake_private.sessions']::regclass[] loop
    execute format('alter table %s enable row level security', t);
    execute format('create policy tenant_isolation on %s using (tenant = intake.current_tenant()) with check (tenant = intake.current_tenant())', t);
  end loop;
end
$$;
-- No grants: only the owner reads or writes passwords and sessions.

-- ───────────────────────────── setup tokens: the one global table ─────────────────────────────
-- A setup token opens the first workspace on an empty database (`npm start` prints its link),
-- so it exists before any tenant: it belongs to no tenant, and is a global (in Citus terms a
-- reference) table. It lives in its own schema so that psa, intake and intake_private keep the
-- rule that every table is a tenant table.
create schema intake_global;
revoke all on schema intake_global from public;
comment on schema intake_global is 'Tables that belong to no tenant (Citus reference tables). Never exposed to GraphQL; owner only.';

create table intake_global.setup_tokens (
  setup_token_id uuid primary key default gen_random_uuid(),
  token_hash bytea not null unique check (length(token_hash) = 32),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
comment on table intake_global.setup_tokens is 'One-time links that create the first tenant and its admin; SHA-256 digests only. A new one deletes the unused ones.';
-- RLS on with no policy: nobody but the owner (who bypasses it) can see a row, even if a grant
-- were added by mistake.
alter table intake_global.setup_tokens enable row level security;
