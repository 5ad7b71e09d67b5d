CREATE TABLE "rate_limit" (
	"id" text PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"count" integer NOT NULL,
	"last_request" bigint NOT NULL,
	CONSTRAINT "rate_limit_key_unique" UNIQUE("key")
);
--> statement-breakpoint
CREATE TABLE "api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"token_hash" text NOT NULL,
	"scope" text NOT NULL,
	"expires_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"last_used_ip" text,
	"use_count" integer DEFAULT 0 NOT NULL,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "invitations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"email" text NOT NULL,
	"role" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"token_hash" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"invited_by" text NOT NULL,
	"accepted_by" text,
	"accepted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "status" text DEFAULT 'active' NOT NULL;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "max_users" integer;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "max_devices" integer;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "contact_name" text;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "contact_email" text;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_token_hash" ON "api_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "api_tokens_tenant_user" ON "api_tokens" USING btree ("tenant_id","user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "invitations_token_hash" ON "invitations" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "invitations_tenant_email" ON "invitations" USING btree ("tenant_id",lower("email"));--> statement-breakpoint
-- Rate-limit counters are better-auth's: like its other tables, out of the application role's reach.
REVOKE ALL ON "rate_limit" FROM sonde_app, sonde_system;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "rate_limit" TO sonde_system;
--> statement-breakpoint
alter table "api_tokens" enable row level security;
alter table "api_tokens" force row level security;
create policy "api_tokens_tenant_isolation" on "api_tokens" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "api_tokens_system_access" on "api_tokens" for all to sonde_system using (true) with check (true);
--> statement-breakpoint
alter table "invitations" enable row level security;
alter table "invitations" force row level security;
create policy "invitations_tenant_isolation" on "invitations" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "invitations_system_access" on "invitations" for all to sonde_system using (true) with check (true);
--> statement-breakpoint
-- The `users` resource: tenant admins list the members of their tenant. sonde_app may read (and a
-- super user acting in a tenant update) the profile columns of "user" only, never another table of
-- better-auth's, and row-level security shows it only the users who are members of the transaction's
-- tenant. RLS is enabled, not forced: better-auth writes as the owner (or a member of sonde_system).
GRANT SELECT ("id", "name", "email", "email_verified", "display_name", "status", "super_user", "created_at", "updated_at") ON "user" TO sonde_app;
--> statement-breakpoint
GRANT UPDATE ("name", "display_name", "status", "super_user", "updated_at") ON "user" TO sonde_app;
--> statement-breakpoint
alter table "user" enable row level security;
create policy "user_tenant_members" on "user" for select to sonde_app using (exists (select 1 from "memberships" m where m.user_id = "user".id and m.tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)));
create policy "user_tenant_members_update" on "user" for update to sonde_app using (exists (select 1 from "memberships" m where m.user_id = "user".id and m.tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))) with check (exists (select 1 from "memberships" m where m.user_id = "user".id and m.tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)));
create policy "user_system_access" on "user" for all to sonde_system using (true) with check (true);
