--! Previous: sha1:361986ceb96a4c53a3e4894e568a177cd519b4b7
--! Hash: sha1:6363762a262c0af64a9889362ca26e0d239e5b72
--! Message: failure-event triggers fire only for failed rows

-- The failure-event triggers fire only for a row that is failed: the function's own check
-- stays (it also needs OLD to tell a new failure from an old one), but every other insert
-- (each accepted delivery) and update no longer calls a plpgsql function at all. Measured on
-- receive_deliveries of 8 items, one connection, six A/B pairs: 2.6 % less time per call at the
-- median (bench/README.md, issue 16).
drop trigger if exists _800_outbound_event on intake.inbound_webhook_deliveries;
create trigger _800_outbound_event after insert or update of dispatch_status on intake.inbound_webhook_deliveries
  for each row when (new.dispatch_status = 'failed') execute function intake_private.tg_outbound_failure_event();
drop trigger if exists _800_outbound_event on intake.workflow_runs;
create trigger _800_outbound_event after insert or update of status on intake.workflow_runs
  for each row when (new.status = 'failed') execute function intake_private.tg_outbound_failure_event();
