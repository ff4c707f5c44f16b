-- "What is stuck and why" in one query: select * from intake.undispatched_deliveries;
create or replace view intake.undispatched_deliveries as
  select * from intake_private.undispatched_deliveries();
comment on view intake.undispatched_deliveries is
  'Deliveries not yet dispatched, each beside the graphile-worker job that will dispatch it (its own, or its webhook''s queued drain job): attempts, run_at, lock, last error.';
