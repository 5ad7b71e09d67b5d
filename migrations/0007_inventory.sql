CREATE TABLE "integration_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"source_id" uuid NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"trigger" text NOT NULL,
	"seen" integer DEFAULT 0 NOT NULL,
	"total" integer,
	"created" integer DEFAULT 0 NOT NULL,
	"updated" integer DEFAULT 0 NOT NULL,
	"merged" integer DEFAULT 0 NOT NULL,
	"rejected" integer DEFAULT 0 NOT NULL,
	"error" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "integration_sources" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"endpoint" text NOT NULL,
	"credentials" text NOT NULL,
	"partition" text DEFAULT 'default' NOT NULL,
	"schedule" text,
	"query" text,
	"page_size" integer DEFAULT 500 NOT NULL,
	"status" text DEFAULT 'idle' NOT NULL,
	"next_sync_at" timestamp with time zone,
	"last_sync_started_at" timestamp with time zone,
	"last_sync_finished_at" timestamp with time zone,
	"last_sync_error" text,
	"sync_seen" integer DEFAULT 0 NOT NULL,
	"sync_total" integer,
	"last_sync_result" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "device_alias_states" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"device_id" text NOT NULL,
	"alias_type" text NOT NULL,
	"alias_value" text NOT NULL,
	"partition" text DEFAULT 'default' NOT NULL,
	"state" text DEFAULT 'detected' NOT NULL,
	"sightings" integer DEFAULT 1 NOT NULL,
	"replaced_by" text,
	"first_seen" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "device_groups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "device_identifiers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"device_id" text NOT NULL,
	"type" text NOT NULL,
	"value" text NOT NULL,
	"partition" text DEFAULT 'default' NOT NULL,
	"confidence" text NOT NULL,
	"source" text NOT NULL,
	"sightings" integer DEFAULT 1 NOT NULL,
	"first_seen" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "devices" (
	"tenant_id" uuid NOT NULL,
	"uid" text NOT NULL,
	"device_type" text,
	"type_id" integer DEFAULT 0 NOT NULL,
	"name" text,
	"hostname" text,
	"ip" text,
	"mac" text,
	"vendor_name" text,
	"model" text,
	"os" text,
	"domain" text,
	"zone" text,
	"subnet" text,
	"region" text,
	"first_seen_time" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_time" timestamp with time zone DEFAULT now() NOT NULL,
	"risk_level" text,
	"is_managed" boolean DEFAULT false NOT NULL,
	"is_available" boolean DEFAULT false NOT NULL,
	"discovery_sources" text[] DEFAULT '{}'::text[] NOT NULL,
	"agent_id" text,
	"poller_id" text,
	"partition" text DEFAULT 'default' NOT NULL,
	"tags" text[] DEFAULT '{}'::text[] NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"group_id" uuid,
	"identity_state" text DEFAULT 'provisional' NOT NULL,
	"field_sources" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"merged_into" text,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "devices_pkey" PRIMARY KEY("tenant_id","uid")
);
--> statement-breakpoint
CREATE TABLE "interfaces" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"device_id" text NOT NULL,
	"if_index" integer NOT NULL,
	"name" text,
	"description" text,
	"mac" text,
	"ip_addresses" text[] DEFAULT '{}'::text[] NOT NULL,
	"speed_bps" bigint,
	"mtu" integer,
	"admin_status" text,
	"oper_status" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "merge_audits" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"from_device_id" text NOT NULL,
	"to_device_id" text NOT NULL,
	"partition" text DEFAULT 'default' NOT NULL,
	"outcome" text NOT NULL,
	"reason" text NOT NULL,
	"identifiers" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"snapshot" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"actor" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"unmerged_at" timestamp with time zone,
	"unmerged_by" text
);
--> statement-breakpoint
ALTER TABLE "integration_runs" ADD CONSTRAINT "integration_runs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integration_runs" ADD CONSTRAINT "integration_runs_source_id_integration_sources_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."integration_sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integration_sources" ADD CONSTRAINT "integration_sources_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_groups" ADD CONSTRAINT "device_groups_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "devices" ADD CONSTRAINT "devices_group_id_device_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."device_groups"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "interfaces" ADD CONSTRAINT "interfaces_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "interfaces" ADD CONSTRAINT "interfaces_device_fk" FOREIGN KEY ("tenant_id","device_id") REFERENCES "public"."devices"("tenant_id","uid") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "merge_audits" ADD CONSTRAINT "merge_audits_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "integration_runs_source" ON "integration_runs" USING btree ("tenant_id","source_id","started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "integration_sources_tenant_name" ON "integration_sources" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE INDEX "integration_sources_due" ON "integration_sources" USING btree ("tenant_id","next_sync_at");--> statement-breakpoint
CREATE UNIQUE INDEX "device_alias_states_alias" ON "device_alias_states" USING btree ("tenant_id","device_id","alias_type","alias_value");--> statement-breakpoint
CREATE INDEX "device_alias_states_value" ON "device_alias_states" USING btree ("tenant_id","partition","alias_type","alias_value");--> statement-breakpoint
CREATE UNIQUE INDEX "device_groups_tenant_name" ON "device_groups" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "device_identifiers_identity" ON "device_identifiers" USING btree ("tenant_id","type","value","partition");--> statement-breakpoint
CREATE INDEX "device_identifiers_device" ON "device_identifiers" USING btree ("tenant_id","device_id");--> statement-breakpoint
CREATE UNIQUE INDEX "devices_active_ip" ON "devices" USING btree ("tenant_id","partition","ip") WHERE "devices"."deleted_at" is null and "devices"."merged_into" is null and "devices"."ip" is not null;--> statement-breakpoint
CREATE INDEX "devices_hostname_partition" ON "devices" USING btree ("tenant_id","hostname" text_pattern_ops,"partition");--> statement-breakpoint
CREATE UNIQUE INDEX "interfaces_device_index" ON "interfaces" USING btree ("tenant_id","device_id","if_index");--> statement-breakpoint
CREATE UNIQUE INDEX "merge_audits_blocked_once" ON "merge_audits" USING btree ("tenant_id","from_device_id","to_device_id","reason") WHERE "merge_audits"."outcome" = 'blocked';--> statement-breakpoint
CREATE INDEX "merge_audits_from" ON "merge_audits" USING btree ("tenant_id","from_device_id");--> statement-breakpoint
CREATE INDEX "merge_audits_to" ON "merge_audits" USING btree ("tenant_id","to_device_id");--> statement-breakpoint
-- Row-level security for every inventory and integration table (kernel/tenancy/rls.ts).
alter table "device_groups" enable row level security;
alter table "device_groups" force row level security;
create policy "device_groups_tenant_isolation" on "device_groups" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "device_groups_system_access" on "device_groups" for all to sonde_system using (true) with check (true);
--> statement-breakpoint
alter table "devices" enable row level security;
alter table "devices" force row level security;
create policy "devices_tenant_isolation" on "devices" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "devices_system_access" on "devices" for all to sonde_system using (true) with check (true);
--> statement-breakpoint
alter table "device_identifiers" enable row level security;
alter table "device_identifiers" force row level security;
create policy "device_identifiers_tenant_isolation" on "device_identifiers" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "device_identifiers_system_access" on "device_identifiers" for all to sonde_system using (true) with check (true);
--> statement-breakpoint
alter table "merge_audits" enable row level security;
alter table "merge_audits" force row level security;
create policy "merge_audits_tenant_isolation" on "merge_audits" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "merge_audits_system_access" on "merge_audits" for all to sonde_system using (true) with check (true);
--> statement-breakpoint
alter table "device_alias_states" enable row level security;
alter table "device_alias_states" force row level security;
create policy "device_alias_states_tenant_isolation" on "device_alias_states" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "device_alias_states_system_access" on "device_alias_states" for all to sonde_system using (true) with check (true);
--> statement-breakpoint
alter table "interfaces" enable row level security;
alter table "interfaces" force row level security;
create policy "interfaces_tenant_isolation" on "interfaces" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "interfaces_system_access" on "interfaces" for all to sonde_system using (true) with check (true);
--> statement-breakpoint
alter table "integration_sources" enable row level security;
alter table "integration_sources" force row level security;
create policy "integration_sources_tenant_isolation" on "integration_sources" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "integration_sources_system_access" on "integration_sources" for all to sonde_system using (true) with check (true);
--> statement-breakpoint
alter table "integration_runs" enable row level security;
alter table "integration_runs" force row level security;
create policy "integration_runs_tenant_isolation" on "integration_runs" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "integration_runs_system_access" on "integration_runs" for all to sonde_system using (true) with check (true);
--> statement-breakpoint
-- Devices and identifiers are updated on every sighting: room on each page lets those updates stay
-- HOT (no index rewrite) when no indexed column changes.
alter table "devices" set (fillfactor = 85);
alter table "device_identifiers" set (fillfactor = 85);
--> statement-breakpoint
-- The ingest's tables have no foreign keys (each per-row check cost more than the insert): these
-- triggers do what ON DELETE CASCADE would. They run as the deleting role, under its RLS policies.
create function sonde_delete_device_identity() returns trigger language plpgsql as $$
begin
  delete from device_identifiers where tenant_id = old.tenant_id and device_id = old.uid;
  delete from device_alias_states where tenant_id = old.tenant_id and device_id = old.uid;
  return old;
end $$;
--> statement-breakpoint
create trigger devices_delete_identity after delete on "devices"
  for each row execute function sonde_delete_device_identity();
--> statement-breakpoint
create function sonde_delete_tenant_inventory() returns trigger language plpgsql as $$
begin
  delete from device_alias_states where tenant_id = old.id;
  delete from device_identifiers where tenant_id = old.id;
  delete from devices where tenant_id = old.id;
  return old;
end $$;
--> statement-breakpoint
create trigger tenants_delete_inventory after delete on "tenants"
  for each row execute function sonde_delete_tenant_inventory();
