-- Ticket numbers count per tenant (no global sequence: design rule 7). The counter row is
-- locked until the creating transaction commits, so numbers never repeat.
create or replace function psa.next_ticket_number() returns text
  language sql volatile
  set search_path = pg_catalog
  as $$
  insert into psa.tenant_counters as c (tenant, counter_name, value)
  values (intake.current_tenant(), 'ticket_number', 1)
  on conflict (tenant, counter_name) do update set value = c.value + 1
  returning 'T-' || lpad(c.value::text, 6, '0')
$$;
comment on function psa.next_ticket_number() is 'Next ticket number of the current tenant (T-000001, T-000002, …).';
grant execute on function psa.next_ticket_number() to intake_app;
