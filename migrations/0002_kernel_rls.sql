-- The application role: not a superuser, not the owner of any table, so row-level security applies
-- to it. Core connects as the owner (or a login role that is a member of sonde_app) and runs every
-- application transaction under SET LOCAL ROLE sonde_app. Roles are cluster-wide: create it once.
DO $$ BEGIN
  CREATE ROLE sonde_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO sonde_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO sonde_app;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO sonde_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO sonde_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO sonde_app;
--> statement-breakpoint
-- Migrations are the owner's: the application may not rewrite their ledger.
REVOKE ALL ON sonde_migrations FROM sonde_app;
--> statement-breakpoint
alter table "audit_events" enable row level security;
alter table "audit_events" force row level security;
create policy "audit_events_tenant_isolation" on "audit_events" for all to public using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid) or (select current_setting('app.bypass_rls', true)) = 'on') with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid) or (select current_setting('app.bypass_rls', true)) = 'on');
--> statement-breakpoint
alter table "outbox" enable row level security;
alter table "outbox" force row level security;
create policy "outbox_tenant_isolation" on "outbox" for all to public using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid) or (select current_setting('app.bypass_rls', true)) = 'on') with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid) or (select current_setting('app.bypass_rls', true)) = 'on');
--> statement-breakpoint
alter table "state_transitions" enable row level security;
alter table "state_transitions" force row level security;
create policy "state_transitions_tenant_isolation" on "state_transitions" for all to public using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid) or (select current_setting('app.bypass_rls', true)) = 'on') with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid) or (select current_setting('app.bypass_rls', true)) = 'on');
