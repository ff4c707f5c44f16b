--! Previous: sha1:0db72690210caf1fba7bd15856980ff590669c63
--! Hash: sha1:c96a7a0931d36966f30aa86430977c3742985b19
--! Message: receive_deliveries answers drain_held per item (dropped for its new result column)

-- A function's result columns cannot change under create or replace. The receiver's statement
-- names the columns it reads, so a receiver of the previous version keeps working once the new
-- function is loaded right after this migration.
drop function if exists intake.receive_deliveries(jsonb);
