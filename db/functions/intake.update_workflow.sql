-- Changes a workflow for the management API. p_patch holds only what changes: any of name,
-- description (null clears it), definition (the stored form {"steps": [...]}, validated by the
-- caller with validateDefinition) and is_active. A changed definition bumps the version
-- (trigger _100_touch); runs already started keep the definition they began with. Security
-- definer, because intake_user has no update on intake.workflows: so it checks the permission
-- itself (inbound_webhook:update; there is no workflow resource) and touches only the current
-- tenant's workflow, so another tenant's id is "not found".
create or replace function intake.update_workflow(p_workflow_id uuid, p_patch jsonb)
  returns intake.workflows
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
declare
  v_tenant uuid := intake_private.require_tenant_permission('inbound_webhook', 'update', 'it covers workflows');
  v_row intake.workflows;
begin
  if p_patch is null or jsonb_typeof(p_patch) <> 'object' then
    raise exception 'the patch must be a JSON object' using errcode = '22023';
  end if;
  if (p_patch ? 'is_active') and jsonb_typeof(p_patch->'is_active') <> 'boolean' then
    raise exception 'is_active must be true or false' using errcode = '22023';
  end if;
  update intake.workflows f
     set name = case when p_patch ? 'name' then p_patch->>'name' else f.name end,
         description = case when p_patch ? 'description' then p_patch->>'description' else f.description end,
         definition = case when p_patch ? 'definition' then p_patch->'definition' else f.definition end,
         is_active = case when p_patch ? 'is_active' then (p_patch->>'is_active')::boolean else f.is_active end
   where f.tenant = v_tenant and f.workflow_id = p_workflow_id
  returning * into v_row;
  if not found then
    raise exception 'workflow % not found', p_workflow_id using errcode = 'P0002';
  end if;
  return v_row;
end
$$;
comment on function intake.update_workflow(uuid, jsonb) is
  'Changes a workflow''s name, description, definition (validated by the caller; bumps the version) or is_active, in the current tenant (needs inbound_webhook:update).';
grant execute on function intake.update_workflow(uuid, jsonb) to intake_user;
