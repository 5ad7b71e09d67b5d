CREATE TABLE "encryption_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"wrapped" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone,
	"active" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "encryption_keys_one_active" ON "encryption_keys" USING btree ("active") WHERE active;--> statement-breakpoint
-- Data keys are written only by the schema owner: key creation and `sonde keys rotate` run on the
-- owner's connection, never inside a kernel transaction, so neither application role may change or
-- delete a key (0002's default privileges granted them DML on every new table). sonde_system may read
-- them, which a separate login role (a member of it) needs to load the keyring; sonde_app, the role of
-- every tenant transaction, may not even read the wrapped keys.
REVOKE ALL ON "encryption_keys" FROM sonde_app, sonde_system;
--> statement-breakpoint
GRANT SELECT ON "encryption_keys" TO sonde_system;
