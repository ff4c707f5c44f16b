-- Per-webhook order with bounded queue names: a webhook always lands in the same one of 16
-- serial queues, so its deliveries run one at a time in job order while 16 webhooks proceed
-- in parallel (graphile-worker advises few queue names).
create or replace function intake_private.dispatch_queue_name(p_inbound_webhook_id uuid) returns text
  language sql immutable parallel safe
  set search_path = pg_catalog
  as $$ select 'intake-dispatch-' || (abs(hashtext(p_inbound_webhook_id::text)::bigint) % 16)::text $$;
comment on function intake_private.dispatch_queue_name(uuid) is
  'The graphile-worker queue a webhook''s deliveries are dispatched on (one of 16, by hash).';
