--! Previous: sha1:7c2deedf401b6163f78446d504ce97961db4784b
--! Hash: sha1:cfc368d72452a647d9174977cc6a28ba63b236eb
--! Message: receive_deliveries answers drain_held per item (dropped for its new result column)

-- A function's result columns cannot change under create or replace. The receiver's statement
-- names the columns it reads, so a receiver of the previous version keeps working once the new
-- function is loaded right after this migration.
-- contract: receive_deliveries is recreated from db/functions/ right after; receivers of the previous version name the columns they read.
drop function if exists intake.receive_deliveries(jsonb);
