-- Creates a tenant with the reference data every tenant starts with: a default board, ticket
-- and project-task statuses, priorities (actions resolve these by name or id), and the roles
-- admin (every inbound_webhook and outbound_webhook permission) and viewer (read of both).
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

  with r as (
    insert into psa.roles (tenant, name, description) values
      (v_tenant, 'admin', 'Everything, including webhook configuration and replays'),
      (v_tenant, 'viewer', 'Read webhooks, deliveries and rejections')
    returning role_id, name
  )
  insert into psa.role_permissions (tenant, role_id, resource, action)
  select v_tenant, r.role_id, res.resource, a.action
    from r
   cross join (values ('inbound_webhook'), ('outbound_webhook')) res (resource)
    join (values ('admin', 'create'), ('admin', 'read'), ('admin', 'update'), ('admin', 'delete'), ('admin', 'replay'),
                 ('viewer', 'read')) a (role, action)
      on a.role = r.name;

  return v_tenant;
end
$$;
comment on function intake.create_tenant(text, text) is
  'Creates a tenant (URL-safe unique slug) and seeds its boards, statuses, priorities and roles (admin, viewer). Returns the tenant id.';
