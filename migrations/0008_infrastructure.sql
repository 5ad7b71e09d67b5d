CREATE TABLE "agents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"component_id" text NOT NULL,
	"partition" text DEFAULT 'default' NOT NULL,
	"poller_id" uuid,
	"status" text DEFAULT 'connecting' NOT NULL,
	"status_reason" text,
	"capabilities" text[] DEFAULT '{}'::text[] NOT NULL,
	"version" text,
	"host" text,
	"address" text,
	"first_seen" timestamp with time zone,
	"last_heartbeat_at" timestamp with time zone,
	"last_seen_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "checkers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"name" text NOT NULL,
	"check_type" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"failure_threshold" integer DEFAULT 3 NOT NULL,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"last_success_at" timestamp with time zone,
	"last_failure_at" timestamp with time zone,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "partitions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"slug" text NOT NULL,
	"description" text,
	"cidr_ranges" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pollers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"component_id" text NOT NULL,
	"partition" text DEFAULT 'default' NOT NULL,
	"status" text DEFAULT 'inactive' NOT NULL,
	"intent" text DEFAULT 'active' NOT NULL,
	"status_reason" text,
	"capabilities" text[] DEFAULT '{}'::text[] NOT NULL,
	"version" text,
	"host" text,
	"first_seen" timestamp with time zone,
	"last_heartbeat_at" timestamp with time zone,
	"last_seen_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_poller_id_pollers_id_fk" FOREIGN KEY ("poller_id") REFERENCES "public"."pollers"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "checkers" ADD CONSTRAINT "checkers_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "checkers" ADD CONSTRAINT "checkers_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "partitions" ADD CONSTRAINT "partitions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pollers" ADD CONSTRAINT "pollers_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "agents_tenant_component" ON "agents" USING btree ("tenant_id","component_id");--> statement-breakpoint
CREATE INDEX "agents_sweep" ON "agents" USING btree ("status","last_seen_at");--> statement-breakpoint
CREATE UNIQUE INDEX "checkers_agent_name" ON "checkers" USING btree ("tenant_id","agent_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "partitions_tenant_slug" ON "partitions" USING btree ("tenant_id","slug");--> statement-breakpoint
CREATE UNIQUE INDEX "pollers_tenant_component" ON "pollers" USING btree ("tenant_id","component_id");--> statement-breakpoint
CREATE INDEX "pollers_sweep" ON "pollers" USING btree ("status","last_seen_at");--> statement-breakpoint
-- Row-level security for every infrastructure table (kernel/tenancy/rls.ts).
alter table "partitions" enable row level security;
alter table "partitions" force row level security;
create policy "partitions_tenant_isolation" on "partitions" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "partitions_system_access" on "partitions" for all to sonde_system using (true) with check (true);
--> statement-breakpoint
alter table "pollers" enable row level security;
alter table "pollers" force row level security;
create policy "pollers_tenant_isolation" on "pollers" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "pollers_system_access" on "pollers" for all to sonde_system using (true) with check (true);
--> statement-breakpoint
alter table "agents" enable row level security;
alter table "agents" force row level security;
create policy "agents_tenant_isolation" on "agents" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "agents_system_access" on "agents" for all to sonde_system using (true) with check (true);
--> statement-breakpoint
alter table "checkers" enable row level security;
alter table "checkers" force row level security;
create policy "checkers_tenant_isolation" on "checkers" for all to sonde_app using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)) with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
create policy "checkers_system_access" on "checkers" for all to sonde_system using (true) with check (true);
