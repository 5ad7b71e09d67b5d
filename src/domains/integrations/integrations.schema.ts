import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { tenants } from "../../kernel/kernel.schema.js";

/**
 * Integration sources (Armis, NetBox) that feed the inventory, and the record of each sync run.
 * Tenant-scoped under row-level security (migrations/0007). Credentials are stored encrypted and
 * never read back through the API.
 */

export const INTEGRATION_KINDS = ["armis", "netbox"] as const;
export type IntegrationKind = (typeof INTEGRATION_KINDS)[number];

export const SYNC_STATUSES = ["idle", "running", "success", "failed"] as const;
export const RUN_STATUSES = ["running", "success", "failed"] as const;

export const integrationSources = pgTable(
  "integration_sources",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    kind: text("kind", { enum: INTEGRATION_KINDS }).notNull(),
    /** Base URL of the source's API, e.g. https://armis.example.com. */
    endpoint: text("endpoint").notNull(),
    /** Armis secret key or NetBox token; encrypted at rest, write-only. */
    credentials: text("credentials").notNull(),
    /** The partition the synced devices belong to. */
    partition: text("partition").notNull().default("default"),
    /** Five-field cron (UTC) for scheduled syncs; null: on demand only. */
    schedule: text("schedule"),
    /** Armis AQL or NetBox filter query string narrowing what is synced. */
    query: text("query"),
    page_size: integer("page_size").notNull().default(500),
    status: text("status", { enum: SYNC_STATUSES }).notNull().default("idle"),
    /** When the schedule next makes the source due (null without a schedule). */
    next_sync_at: timestamp("next_sync_at", { withTimezone: true }),
    last_sync_started_at: timestamp("last_sync_started_at", { withTimezone: true }),
    last_sync_finished_at: timestamp("last_sync_finished_at", { withTimezone: true }),
    last_sync_error: text("last_sync_error"),
    /** Progress of the running (or last) sync: devices seen so far, and the total the source reported. */
    sync_seen: integer("sync_seen").notNull().default(0),
    sync_total: integer("sync_total"),
    last_sync_result: jsonb("last_sync_result").$type<Record<string, unknown>>(),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updated_at: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("integration_sources_tenant_name").on(t.tenant_id, t.name),
    index("integration_sources_due").on(t.tenant_id, t.next_sync_at),
  ],
);

export const integrationRuns = pgTable(
  "integration_runs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    source_id: uuid("source_id")
      .notNull()
      .references(() => integrationSources.id, { onDelete: "cascade" }),
    status: text("status", { enum: RUN_STATUSES }).notNull().default("running"),
    /** manual (an operator), schedule (the trigger). */
    trigger: text("trigger").notNull(),
    seen: integer("seen").notNull().default(0),
    total: integer("total"),
    created: integer("created").notNull().default(0),
    updated: integer("updated").notNull().default(0),
    merged: integer("merged").notNull().default(0),
    rejected: integer("rejected").notNull().default(0),
    error: text("error"),
    started_at: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    finished_at: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [index("integration_runs_source").on(t.tenant_id, t.source_id, t.started_at)],
);
