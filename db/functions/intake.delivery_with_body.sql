-- A delivery row with its request body and headers, wherever they are: in
-- intake.inbound_webhook_delivery_bodies (rows recorded since migration 000015: body_size is
-- set), or in the row's own columns (rows recorded before). When retention has cut the body, the
-- row comes back with no body and headers, body_cut_at set (when it was cut) and
-- request_body_text saying so: "body cut on <date>: <size> bytes, sha256 <hex>, head: <head>"
-- (intake.delivery_body_note). Every reader of a body goes through this (the worker's dispatch,
-- replay, the dry run, use-as-sample, GraphQL, REST, the CLI); a DBA can too:
--   select (intake.delivery_with_body(d)).request_body from intake.inbound_webhook_deliveries d where …
-- Runs as the caller: row-level security applies to the body as to the row.
create or replace function intake.delivery_with_body(d intake.inbound_webhook_deliveries)
  returns intake.inbound_webhook_deliveries
  language plpgsql stable
  set search_path = pg_catalog
  as $$
begin
  if d.delivery_id is null then
    return d;
  end if;
  if d.body_size is not null and d.body_cut_at is null then
    select b.request_headers, b.request_body, b.request_body_text
      into d.request_headers, d.request_body, d.request_body_text
      from intake.inbound_webhook_delivery_bodies b
     where b.tenant = d.tenant and b.delivery_id = d.delivery_id and b.received_at = d.received_at;
    if found then
      return d;
    end if;
    -- its day was dropped (a day never logged: shown as cut on the day it was received)
    d.body_cut_at := coalesce(intake_private.body_cut_on(d.received_at), d.received_at);
  end if;
  if d.body_cut_at is not null then
    d.request_headers := '{}';
    d.request_body := null;
    d.request_body_text := intake.delivery_body_note(d);
  end if;
  return d;
end
$$;
comment on function intake.delivery_with_body(intake.inbound_webhook_deliveries) is
  'The delivery with its request body and headers from wherever they are kept; when retention cut them, none, with body_cut_at set and request_body_text saying when, with the size, SHA-256 and head.';
grant execute on function intake.delivery_with_body(intake.inbound_webhook_deliveries) to intake_app, intake_user;
