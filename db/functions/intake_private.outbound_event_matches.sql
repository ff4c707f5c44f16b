-- Whether an event type matches a subscription's list: an exact name, "entity.*" (every event
-- whose name starts with "entity."), or "*" (every event).
create or replace function intake_private.outbound_event_matches(p_patterns text[], p_event_type text) returns boolean
  language sql immutable parallel safe
  set search_path = pg_catalog
  as $$
  select exists (
    select 1 from unnest(p_patterns) p
     where p = p_event_type or p = '*'
        or (right(p, 2) = '.*' and starts_with(p_event_type, left(p, -1)))
  )
$$;
comment on function intake_private.outbound_event_matches(text[], text) is
  'True when the event type is one of the patterns (exact, "entity.*" or "*").';
grant execute on function intake_private.outbound_event_matches(text[], text) to intake_user, intake_app;
