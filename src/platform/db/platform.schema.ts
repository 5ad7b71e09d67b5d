import { pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Platform tables: not tenant-scoped, owned by the platform layer. Domain tables live in their own
 * `*.schema.ts` files beside the domain; drizzle-kit collects every `src/**\/*.schema.ts`.
 */

/** One row per running core process, refreshed on a heartbeat; the cluster view reads it. */
export const coreInstances = pgTable("core_instances", {
  id: text("id").primaryKey(),
  node: text("node").notNull(),
  version: text("version").notNull(),
  roles: text("roles").array().notNull(),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
  heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }).notNull().defaultNow(),
});
