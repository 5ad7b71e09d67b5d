-- Two roles for application transactions, neither superuser nor owner of any table, so row-level
-- security applies to both: sonde_app works inside one tenant (app.tenant_id set per transaction),
-- sonde_system crosses tenants for the system actor and audited super-user reads. Core connects as
-- the owner, or as a login role that is a member of both, and switches per transaction (SET LOCAL).
-- Roles are cluster-wide: create them once.
DO $$ BEGIN
  CREATE ROLE sonde_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  CREATE ROLE sonde_system NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
--> statement-breakpoint
-- The owner switches to these roles per transaction, so it must be a member (a superuser is anyway).
DO $$ BEGIN
  EXECUTE format('GRANT sonde_app, sonde_system TO %I', current_user);
EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN NULL;
END $$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO sonde_app, sonde_system;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO sonde_app, sonde_system;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO sonde_app, sonde_system;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO sonde_app, sonde_system;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO sonde_app, sonde_system;
--> statement-breakpoint
-- Migrations are the owner's: the application may not rewrite their ledger.
REVOKE ALL ON sonde_migrations FROM sonde_app, sonde_system;
--> statement-breakpoint
alter table "audit_events" enable row level security;
alter table "audit_events" force row level security;
create policy "audit_events_tenant_isolation" on "audit_events" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "audit_events_system_access" on "audit_events" for all to sonde_system using (true) with check (true);
--> statement-breakpoint
alter table "outbox" enable row level security;
alter table "outbox" force row level security;
create policy "outbox_tenant_isolation" on "outbox" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "outbox_system_access" on "outbox" for all to sonde_system using (true) with check (true);
--> statement-breakpoint
alter table "state_transitions" enable row level security;
alter table "state_transitions" force row level security;
create policy "state_transitions_tenant_isolation" on "state_transitions" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "state_transitions_system_access" on "state_transitions" for all to sonde_system using (true) with check (true);
