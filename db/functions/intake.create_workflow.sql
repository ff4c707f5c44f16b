-- Stores a new workflow for the management API. Node has validated the definition with
-- validateDefinition (worker/workflows/definition.ts: registered actions, JSONata, step ids),
-- the same check as `intake workflow create`; SQL keeps the shape check of the table. Security
-- definer, because intake_user has no insert on intake.workflows: so it checks the permission
-- itself (there is no workflow resource: workflows are webhook handlers, so creating one needs
-- inbound_webhook:create) and takes the tenant from the transaction's settings only.
-- p_definition: the stored form, {"steps": [...]}. p_is_active: null means true.
create or replace function intake.create_workflow(
  p_name text,
  p_description text,
  p_definition jsonb,
  p_is_active boolean default true
) returns intake.workflows
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_tenant uuid := intake_private.require_tenant_permission('inbound_webhook', 'create', 'it covers workflows');
  v_row intake.workflows;
begin
  insert into intake.workflows (tenant, name, description, definition, is_active)
  values (v_tenant, p_name, p_description, p_definition, coalesce(p_is_active, true))
  returning * into v_row;
  return v_row;
end
$$;
comment on function intake.create_workflow(text, text, jsonb, boolean) is
  'Stores a workflow whose definition the caller validated, in the current tenant (needs inbound_webhook:create).';
grant execute on function intake.create_workflow(text, text, jsonb, boolean) to intake_user;
