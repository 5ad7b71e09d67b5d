import { sql } from "drizzle-orm";
import { bigserial, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

export const TENANT_STATUSES = ["active", "suspended"] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

/** Plan limits a tenant may carry; a resource names the one that bounds its row count (`quota`). */
export const TENANT_LIMITS = ["max_users", "max_devices"] as const;
export type TenantLimit = (typeof TENANT_LIMITS)[number];

/**
 * The kernel's own tables. `tenants` is the registry of tenants (global); the others are tenant-scoped
 * with row-level security (see migrations/0002_kernel_rls.sql).
 */
export const tenants = pgTable("tenants", {
  id: uuid("id").primaryKey().defaultRandom(),
  /** Immutable: it names the tenant's bus subjects, queues and registry keys. */
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  /** A suspended tenant's members cannot sign in or call the API; super users still administer it. */
  status: text("status", { enum: TENANT_STATUSES }).notNull().default("active"),
  /** Plan limits; null: unlimited. Enforced by the kernel on create (ResourceSpec.quota). */
  max_users: integer("max_users"),
  max_devices: integer("max_devices"),
  /** Encrypted at rest (AES-256-GCM envelope, docs/encryption.md). */
  contact_name: text("contact_name"),
  contact_email: text("contact_email"),
  created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Authorization failures, state transitions, bypasses and system-actor writes. */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    tenant_id: uuid("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    actor_kind: text("actor_kind").notNull(),
    actor_id: text("actor_id").notNull(),
    kind: text("kind").notNull(),
    resource: text("resource").notNull(),
    action: text("action").notNull(),
    record_id: text("record_id"),
    detail: jsonb("detail")
      .notNull()
      .default(sql`'{}'::jsonb`),
  },
  (t) => [index("audit_events_tenant_at").on(t.tenant_id, t.at)],
);

/** The transactional outbox: written with the change, published to the bus after commit. */
export const outbox = pgTable(
  "outbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    tenant_id: uuid("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
    subject: text("subject").notNull(),
    payload: jsonb("payload").notNull(),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    published_at: timestamp("published_at", { withTimezone: true }),
  },
  (t) => [
    index("outbox_unpublished")
      .on(t.id)
      .where(sql`published_at is null`),
  ],
);

/** One row per state-machine transition: the history a resource's lifecycle can be replayed from. */
export const stateTransitions = pgTable(
  "state_transitions",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    tenant_id: uuid("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
    resource: text("resource").notNull(),
    record_id: text("record_id").notNull(),
    from_state: text("from_state").notNull(),
    to_state: text("to_state").notNull(),
    action: text("action").notNull(),
    actor_kind: text("actor_kind").notNull(),
    actor_id: text("actor_id").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("state_transitions_record").on(t.resource, t.record_id, t.id)],
);
