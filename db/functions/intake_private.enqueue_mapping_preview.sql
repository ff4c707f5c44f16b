-- Enqueues the preview_mapping job of a pending mapping preview (intake.request_mapping_preview),
-- in the caller's transaction; the job carries ids only. Security definer (intake_user may not
-- call graphile_worker), so it checks the tenant as enqueue_dispatch does
-- (intake_private.require_caller_tenant) and that the preview is pending.
create or replace function intake_private.enqueue_mapping_preview(p_tenant uuid, p_preview_id uuid) returns void
  language plpgsql volatile security definer
  set search_path = pg_catalog
  as $$
begin
  perform intake_private.require_caller_tenant(p_tenant, format('mapping preview %s', p_preview_id));
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
