-- One verified request, recorded and enqueued: intake.receive_deliveries() with a batch of
-- one. Kept for psql and scripts; the receiver sends batches.
create or replace function intake.receive_delivery(
  p_tenant uuid,
  p_inbound_webhook_id uuid,
  p_request_method text,
  p_request_path text,
  p_request_headers jsonb,
  p_request_body jsonb,
  p_request_body_text text,
  p_body_format text,
  p_content_type text,
  p_source_ip inet,
  p_user_agent text,
  p_idempotency_key text,
  p_received_at timestamptz,
  -- non-null: the request was verified but cannot be dispatched (e.g. malformed JSON); it is
  -- recorded as failed with this message and answered with p_failure_status
  p_failure text default null,
  p_failure_status int default 400
) returns table (delivery_id uuid, duplicate boolean, response_status int, response_body jsonb)
  language sql volatile
  set search_path = pg_catalog
  as $$
  select r.delivery_id, r.duplicate, r.response_status, r.response_body
    from intake.receive_deliveries(jsonb_build_array(jsonb_build_object(
      'tenant', p_tenant, 'inbound_webhook_id', p_inbound_webhook_id, 'request_method', p_request_method,
      'request_path', p_request_path, 'request_headers', p_request_headers, 'request_body', p_request_body,
      'request_body_text', p_request_body_text, 'body_format', p_body_format, 'content_type', p_content_type,
      'source_ip', p_source_ip, 'user_agent', p_user_agent, 'idempotency_key', p_idempotency_key,
      'received_at', p_received_at, 'failure', p_failure, 'failure_status', p_failure_status
    ))) r
$$;
comment on function intake.receive_delivery(uuid, uuid, text, text, jsonb, jsonb, text, text, text, inet, text, text, timestamptz, text, int) is
  'Records one verified inbound request and enqueues its dispatch in the same transaction; answers the original delivery for a repeat inside the idempotency window.';
-- not granted to intake_app: only the receiver (the owner) records deliveries
