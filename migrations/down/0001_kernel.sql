drop table if exists "state_transitions";
drop table if exists "outbox";
drop table if exists "audit_events";
drop table if exists "tenants";
