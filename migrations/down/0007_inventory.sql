-- Drops the inventory and integration tables (their RLS policies go with them).
DROP TABLE "integration_runs" CASCADE;
DROP TABLE "integration_sources" CASCADE;
DROP TABLE "interfaces" CASCADE;
DROP TABLE "device_alias_states" CASCADE;
DROP TABLE "merge_audits" CASCADE;
DROP TABLE "device_identifiers" CASCADE;
DROP TABLE "devices" CASCADE;
DROP TABLE "device_groups" CASCADE;
