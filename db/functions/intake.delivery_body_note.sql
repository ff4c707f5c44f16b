-- What a reader shows instead of a body retention has cut: "body cut on 2026-12-07: 1234 bytes,
-- sha256 <hex>, head: <the first 256 characters>". Null while the body is kept. Takes the row as
-- intake.delivery_with_body returns it (body_cut_at set when the body is gone).
create or replace function intake.delivery_body_note(d intake.inbound_webhook_deliveries) returns text
  language sql immutable
  set search_path = pg_catalog
  as $$
  select case when d.body_cut_at is not null then
    format('body cut on %s: %s bytes, sha256 %s, head: %s',
           to_char(d.body_cut_at at time zone 'UTC', 'YYYY-MM-DD'),
           coalesce(d.body_size::text, 'unknown'),
           coalesce(encode(d.body_sha256, 'hex'), 'unknown'),
           coalesce(d.body_head, ''))
  end
$$;
comment on function intake.delivery_body_note(intake.inbound_webhook_deliveries) is
  'The text shown for a delivery whose body retention cut: when, its size, SHA-256 and head; null while the body is kept.';
grant execute on function intake.delivery_body_note(intake.inbound_webhook_deliveries) to intake_app, intake_user;
