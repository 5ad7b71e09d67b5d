-- Drops the inventory and integration tables (their RLS policies go with them) and the triggers
-- that stand in for their foreign keys.
DROP TRIGGER IF EXISTS tenants_delete_inventory ON "tenants";
DROP FUNCTION IF EXISTS sonde_delete_tenant_inventory();
DROP TABLE "integration_runs" CASCADE;
DROP TABLE "integration_sources" CASCADE;
DROP TABLE "interfaces" CASCADE;
DROP TABLE "device_alias_states" CASCADE;
DROP TABLE "merge_audits" CASCADE;
DROP TABLE "device_identifiers" CASCADE;
DROP TABLE "devices" CASCADE;
DROP FUNCTION IF EXISTS sonde_delete_device_identity();
DROP TABLE "device_groups" CASCADE;
