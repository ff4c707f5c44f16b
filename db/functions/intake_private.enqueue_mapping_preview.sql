-- Enqueues the preview_mapping job of a pending mapping preview (intake.request_mapping_preview),
-- in the caller's transaction; the job carries ids only. Security definer (intake_user may not
-- call graphile_worker), so it checks what enqueue_dispatch checks: a tenant set and the
-- preview of that tenant, or, with none set, a caller that sees every tenant anyway.
create or replace function intake_private.enqueue_mapping_preview(p_tenant uuid, p_preview_id uuid) returns void
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  if intake.current_tenant() is null then
    if not intake_private.caller_sees_every_tenant() then
      raise exception 'no tenant is set (intake.tenant): cannot enqueue mapping preview %', p_preview_id using errcode = '42501';
    end if;
  elsif p_tenant is distinct from intake.current_tenant() then
    raise exception 'mapping preview % is not of the current tenant', p_preview_id using errcode = '42501';
  end if;
  if not exists (select 1 from intake.mapping_previews p where p.tenant = p_tenant and p.preview_id = p_preview_id and p.status = 'pending') then
    raise exception 'mapping preview % is not pending', p_preview_id using errcode = '55000';
  end if;
  perform graphile_worker.add_job(
    identifier => 'preview_mapping',
    payload => json_build_object('tenant', p_tenant, 'preview_id', p_preview_id),
    max_attempts => 3,
    job_key => 'preview:' || p_preview_id::text
  );
end
$$;
comment on function intake_private.enqueue_mapping_preview(uuid, uuid) is
  'Adds the preview_mapping job for a pending mapping preview (same transaction as the caller).';
grant execute on function intake_private.enqueue_mapping_preview(uuid, uuid) to intake_user;
