-- One bounded batch of body retention for deliveries recorded before migration 000015, whose
-- body and headers are in the row's own columns: at most p_limit of those older than p_days days,
-- oldest first (deliveries_legacy_body_idx), are cut in place to their size, SHA-256 and head
-- (of the stored body's text: the bytes as received were not kept then), with body_cut_at set.
-- Each batch is its own short transaction (the prune_bodies cron task loops); rows a worker or
-- receiver holds are skipped, not waited for. Returns how many it cut. The set is finite (new
-- rows keep their bodies apart): once cut, this finds nothing, with one index probe.
create or replace function intake_private.cut_legacy_bodies(p_days int, p_limit int) returns int
  language sql volatile
  set search_path = pg_catalog
  as $$
  with old as (
    select d.tenant, d.delivery_id,
           coalesce(d.request_body_text, d.request_body::text, '') as body_text
      from intake.inbound_webhook_deliveries d
     where d.body_size is null and d.body_cut_at is null
       and d.received_at < now() - make_interval(days => p_days)
     order by d.received_at
     limit p_limit
       for no key update skip locked
  ), cut as (
    update intake.inbound_webhook_deliveries d
       set body_size = octet_length(old.body_text),
           body_sha256 = sha256(convert_to(old.body_text, 'UTF8')),
           body_head = left(old.body_text, 256),
           body_cut_at = now(),
           request_body = null,
           request_body_text = null,
           request_headers = '{}'
      from old
     where d.tenant = old.tenant and d.delivery_id = old.delivery_id
    returning 1
  )
  select count(*)::int from cut
$$;
comment on function intake_private.cut_legacy_bodies(int, int) is
  'Cuts, in place, at most p_limit bodies older than p_days days of deliveries recorded before bodies were kept apart, to their size, SHA-256 and head; returns how many.';
