import { sql } from "drizzle-orm";
import {
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { tenants } from "../../kernel/kernel.schema.js";

/**
 * The polling fabric as core sees it (docs/infrastructure.md): partitions (the IP spaces pollers
 * serve), the pollers and agents that registered in the bus registry, and the checkers agents run.
 * Every table is tenant-scoped under row-level security (migrations/0008).
 *
 * Pollers and agents are keyed by their component id (the registry key's last token), unique per
 * tenant; partitions are named by slug, the token registry keys and dispatch subjects carry.
 */

export const POLLER_STATES = [
  "inactive",
  "healthy",
  "degraded",
  "offline",
  "recovering",
  "maintenance",
  "draining",
] as const;
export type PollerState = (typeof POLLER_STATES)[number];

/** What an operator asked of a poller; mirrors its `sonde-control` key. */
export const POLLER_INTENTS = ["active", "draining", "maintenance"] as const;
export type PollerIntent = (typeof POLLER_INTENTS)[number];

export const AGENT_STATES = ["connecting", "connected", "degraded", "disconnected", "unavailable"] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export const CHECKER_STATES = ["active", "paused", "failing", "disabled"] as const;
export type CheckerState = (typeof CHECKER_STATES)[number];

const emptyTextArray = sql`'{}'::text[]`;

export const partitions = pgTable(
  "partitions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    slug: text("slug").notNull(),
    description: text("description"),
    /** IPv4/IPv6 CIDRs this partition's pollers reach; other partitions may hold the same ranges. */
    cidr_ranges: text("cidr_ranges").array().notNull().default(emptyTextArray),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("partitions_tenant_slug").on(t.tenant_id, t.slug)],
);

export const pollers = pgTable(
  "pollers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    component_id: text("component_id").notNull(),
    /** A partition slug; `default` needs no partition row (docs/infrastructure.md). */
    partition: text("partition").notNull().default("default"),
    status: text("status", { enum: POLLER_STATES }).notNull().default("inactive"),
    intent: text("intent", { enum: POLLER_INTENTS }).notNull().default("active"),
    status_reason: text("status_reason"),
    capabilities: text("capabilities").array().notNull().default(emptyTextArray),
    version: text("version"),
    host: text("host"),
    first_seen: timestamp("first_seen", { withTimezone: true }),
    /** The heartbeat's own time (`heartbeatAt` in the registry entry): identifies a heartbeat. */
    last_heartbeat_at: timestamp("last_heartbeat_at", { withTimezone: true }),
    /** When core applied the last heartbeat, on core's clock: what the missed-heartbeat sweep reads. */
    last_seen_at: timestamp("last_seen_at", { withTimezone: true }),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("pollers_tenant_component").on(t.tenant_id, t.component_id),
    index("pollers_sweep").on(t.status, t.last_seen_at),
  ],
);

export const agents = pgTable(
  "agents",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    component_id: text("component_id").notNull(),
    partition: text("partition").notNull().default("default"),
    poller_id: uuid("poller_id").references(() => pollers.id, { onDelete: "set null" }),
    status: text("status", { enum: AGENT_STATES }).notNull().default("connecting"),
    status_reason: text("status_reason"),
    capabilities: text("capabilities").array().notNull().default(emptyTextArray),
    version: text("version"),
    host: text("host"),
    /** Where the agent's gRPC `monitoring.AgentService` listens (`host:port`). */
    address: text("address"),
    first_seen: timestamp("first_seen", { withTimezone: true }),
    last_heartbeat_at: timestamp("last_heartbeat_at", { withTimezone: true }),
    last_seen_at: timestamp("last_seen_at", { withTimezone: true }),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("agents_tenant_component").on(t.tenant_id, t.component_id),
    index("agents_sweep").on(t.status, t.last_seen_at),
  ],
);

export const checkers = pgTable(
  "checkers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    agent_id: uuid("agent_id")
      .notNull()
      .references(() => agents.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    check_type: text("check_type").notNull(),
    status: text("status", { enum: CHECKER_STATES }).notNull().default("active"),
    /** Consecutive failures that turn an active checker failing. */
    failure_threshold: integer("failure_threshold").notNull().default(3),
    consecutive_failures: integer("consecutive_failures").notNull().default(0),
    last_success_at: timestamp("last_success_at", { withTimezone: true }),
    last_failure_at: timestamp("last_failure_at", { withTimezone: true }),
    reason: text("reason"),
    /** What the agent checks, as monitoring.AgentService's StatusRequest.details (`host:port`, an IP, JSON). */
    details: text("details").notNull().default(""),
    port: integer("port").notNull().default(0),
    interval_seconds: integer("interval_seconds").notNull().default(60),
    timeout_ms: integer("timeout_ms").notNull().default(5000),
    /** When the next run is due; null: at once (a new checker). */
    next_run_at: timestamp("next_run_at", { withTimezone: true }),
    last_dispatched_at: timestamp("last_dispatched_at", { withTimezone: true }),
    /** The due time of the last result counted: an older or repeated result changes nothing. */
    last_result_due_at: timestamp("last_result_due_at", { withTimezone: true }),
    last_response_time_ms: doublePrecision("last_response_time_ms"),
    /** The agent's last answer (its StatusResponse message, parsed), for operators. */
    last_result: jsonb("last_result"),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("checkers_agent_name").on(t.tenant_id, t.agent_id, t.name),
    // The scheduler's claim: due checkers of a tenant, earliest first.
    index("checkers_due").on(t.tenant_id, t.next_run_at),
  ],
);
