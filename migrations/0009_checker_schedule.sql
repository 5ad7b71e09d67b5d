ALTER TABLE "checkers" ADD COLUMN "details" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "checkers" ADD COLUMN "port" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "checkers" ADD COLUMN "interval_seconds" integer DEFAULT 60 NOT NULL;--> statement-breakpoint
ALTER TABLE "checkers" ADD COLUMN "timeout_ms" integer DEFAULT 5000 NOT NULL;--> statement-breakpoint
ALTER TABLE "checkers" ADD COLUMN "next_run_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "checkers" ADD COLUMN "last_dispatched_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "checkers" ADD COLUMN "last_result_due_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "checkers" ADD COLUMN "last_response_time_ms" double precision;--> statement-breakpoint
ALTER TABLE "checkers" ADD COLUMN "last_result" jsonb;--> statement-breakpoint
CREATE INDEX "checkers_due" ON "checkers" USING btree ("tenant_id","next_run_at");