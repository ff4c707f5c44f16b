-- "What is stuck and why" in one query: select * from intake.undispatched_deliveries;
create or replace view intake.undispatched_deliveries as
  select * from intake_private.undispatched_deliveries();
comment on view intake.undispatched_deliveries is
  'Deliveries not yet dispatched, each beside its graphile-worker job (attempts, run_at, lock, last error).';
