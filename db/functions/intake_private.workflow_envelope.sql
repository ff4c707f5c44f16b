-- The input a workflow run gets for a delivery (PRD "Workflow Handler"; the OpenAPI document's
-- WorkflowWebhookEnvelope): one home for the dispatch that starts the run (worker/dispatch.ts)
-- and the dry run that shows it (worker/preview.ts, which passes a delivery record it made up
-- from the sample or a pasted body: jsonb_populate_record of the columns it knows).
create or replace function intake_private.workflow_envelope(p_source text, d intake.inbound_webhook_deliveries) returns jsonb
  language sql immutable
  set search_path = pg_catalog
  as $$
  select jsonb_build_object(
    'source', p_source,
    'body', d.request_body,
    'headers', coalesce(d.request_headers, '{}'),
    -- a test delivery was never sent by the sender: not verified
    'verified', coalesce(d.auth_status = 'verified' and not d.is_test, false),
    'is_test', coalesce(d.is_test, false),
    'is_replay', coalesce(d.is_replay, false),
    'delivery_id', d.delivery_id,
    'idempotency_key', d.idempotency_key,
    'received_at', to_char(d.received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
$$;
comment on function intake_private.workflow_envelope(text, intake.inbound_webhook_deliveries) is
  'The envelope a workflow handler''s run receives for a delivery: source, body, headers, verified, is_test, is_replay, delivery_id, idempotency_key, received_at.';
grant execute on function intake_private.workflow_envelope(text, intake.inbound_webhook_deliveries) to intake_app, intake_user;
