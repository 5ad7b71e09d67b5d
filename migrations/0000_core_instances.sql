CREATE TABLE "core_instances" (
	"id" text PRIMARY KEY NOT NULL,
	"node" text NOT NULL,
	"version" text NOT NULL,
	"roles" text[] NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL
);
