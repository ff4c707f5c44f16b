--! Previous: sha1:9adba8161f6e436252d2fca7e6e00353de88ed87
--! Hash: sha1:58f9ae0c1dbd9774858ca371550def7e09e8275d
--! Message: receive_deliveries answers drain_held per item (dropped for its new result column)

-- A function's result columns cannot change under create or replace. The receiver's statement
-- names the columns it reads, so a receiver of the previous version keeps working once the new
-- function is loaded right after this migration.
-- contract: receive_deliveries is recreated from db/functions/ right after; receivers of the previous version name the columns they read.
drop function if exists intake.receive_deliveries(jsonb);
