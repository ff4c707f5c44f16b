-- When retention dropped the bodies of the UTC day a delivery was received on (its partition of
-- intake.inbound_webhook_delivery_bodies, or its rows of the default partition); null when that
-- day's bodies were not dropped. intake_global is the owner's alone: this reads it for readers
-- that run as the caller (intake.delivery_with_body).
create or replace function intake_private.body_cut_on(p_received_at timestamptz) returns timestamptz
  language sql stable security definer
  set search_path = pg_catalog
  as $$
  select c.cut_at from intake_global.body_partition_cuts c where c.day = (p_received_at at time zone 'UTC')::date
$$;
comment on function intake_private.body_cut_on(timestamptz) is
  'When retention dropped the delivery bodies of the UTC day of p_received_at; null when it did not.';
grant execute on function intake_private.body_cut_on(timestamptz) to intake_app, intake_user;
