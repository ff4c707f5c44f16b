-- Creates a tenant with the reference data every tenant starts with: a default board, ticket
-- and project-task statuses, and priorities (actions resolve these by name or id).
create or replace function intake.create_tenant(p_slug text, p_name text) returns uuid
  language plpgsql volatile
  set search_path = pg_catalog
  as $$
declare
  v_tenant uuid;
begin
  insert into psa.tenants (slug, name) values (p_slug, p_name) returning tenant into v_tenant;

  insert into psa.boards (tenant, board_name, is_default, display_order) values
    (v_tenant, 'General', true, 0),
    (v_tenant, 'Alerts', false, 1);

  insert into psa.statuses (tenant, status_type, name, is_closed, is_default, order_number) values
    (v_tenant, 'ticket', 'New', false, true, 0),
    (v_tenant, 'ticket', 'In Progress', false, false, 1),
    (v_tenant, 'ticket', 'Waiting on Client', false, false, 2),
    (v_tenant, 'ticket', 'Resolved', true, false, 3),
    (v_tenant, 'ticket', 'Closed', true, false, 4),
    (v_tenant, 'project_task', 'To Do', false, true, 0),
    (v_tenant, 'project_task', 'In Progress', false, false, 1),
    (v_tenant, 'project_task', 'Blocked', false, false, 2),
    (v_tenant, 'project_task', 'Done', true, false, 3);

  insert into psa.priorities (tenant, priority_name, order_number, color, is_default) values
    (v_tenant, 'Critical', 0, '#d32f2f', false),
    (v_tenant, 'High', 1, '#f57c00', false),
    (v_tenant, 'Medium', 2, '#fbc02d', true),
    (v_tenant, 'Low', 3, '#388e3c', false);

  return v_tenant;
end
$$;
comment on function intake.create_tenant(text, text) is
  'Creates a tenant (URL-safe unique slug) and seeds its boards, statuses and priorities. Returns the tenant id.';
