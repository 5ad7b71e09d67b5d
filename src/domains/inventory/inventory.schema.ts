import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { tenants } from "../../kernel/kernel.schema.js";

/**
 * The inventory: devices reconciled to one canonical identity each (DIRE, docs/inventory.md), the
 * identifiers that name them, their interfaces and groups, and the history of merges. Every table
 * is tenant-scoped under row-level security (migrations/0007).
 *
 * A device's primary key is its canonical id (`sr:<uuid>`), unique per tenant: the same Armis id in
 * two tenants yields the same canonical id in both, so the key is (tenant_id, uid).
 */

export const DEVICE_IDENTIFIER_TYPES = [
  "agent_id",
  "armis_device_id",
  "integration_id",
  "netbox_device_id",
  "mac",
  "ip",
] as const;
export type DeviceIdentifierType = (typeof DEVICE_IDENTIFIER_TYPES)[number];

export const IDENTIFIER_CONFIDENCES = ["strong", "medium", "weak"] as const;
export type IdentifierConfidence = (typeof IDENTIFIER_CONFIDENCES)[number];

export const RISK_LEVELS = ["info", "low", "medium", "high", "critical"] as const;

/** A device stays provisional until a non-MAC strong identifier has been seen twice. */
export const IDENTITY_STATES = ["provisional", "promoted"] as const;

export const ALIAS_STATES = ["detected", "confirmed", "updated", "stale", "replaced", "archived"] as const;
export const ALIAS_TYPES = ["ip", "hostname"] as const;

export const MERGE_OUTCOMES = ["merged", "blocked", "unmerged"] as const;

export const deviceGroups = pgTable(
  "device_groups",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description"),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("device_groups_tenant_name").on(t.tenant_id, t.name)],
);

export const devices = pgTable(
  "devices",
  {
    // No foreign key to tenants on the ingest's three tables (devices, identifiers, alias states): a
    // per-row key check cost more than the insert itself. Triggers in migrations/0007 delete a
    // tenant's (and a device's) rows instead, and RLS keeps tenant_id equal to the transaction's.
    tenant_id: uuid("tenant_id").notNull(),
    /** Canonical id: `sr:` + a UUID derived from the identifiers (dire/canonical-id.ts). */
    uid: text("uid").notNull(),
    /** OCSF `device.type` (e.g. `Router`), renamed because JSON:API reserves `type`; type_id is OCSF's (12). */
    device_type: text("device_type"),
    type_id: integer("type_id").notNull().default(0),
    name: text("name"),
    hostname: text("hostname"),
    ip: text("ip"),
    mac: text("mac"),
    vendor_name: text("vendor_name"),
    model: text("model"),
    os: text("os"),
    domain: text("domain"),
    zone: text("zone"),
    subnet: text("subnet"),
    region: text("region"),
    first_seen_time: timestamp("first_seen_time", { withTimezone: true }).notNull().defaultNow(),
    last_seen_time: timestamp("last_seen_time", { withTimezone: true }).notNull().defaultNow(),
    risk_level: text("risk_level", { enum: RISK_LEVELS }),
    is_managed: boolean("is_managed").notNull().default(false),
    is_available: boolean("is_available").notNull().default(false),
    discovery_sources: text("discovery_sources")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    agent_id: text("agent_id"),
    poller_id: text("poller_id"),
    /** The network the device's addresses belong to; overlapping IP spaces live in different partitions. */
    partition: text("partition").notNull().default("default"),
    tags: text("tags")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    group_id: uuid("group_id").references(() => deviceGroups.id, { onDelete: "set null" }),
    identity_state: text("identity_state", { enum: IDENTITY_STATES }).notNull().default("provisional"),
    /** Which source last set each attribute, so that a less trusted source cannot overwrite it. */
    field_sources: jsonb("field_sources").$type<Record<string, string>>().notNull().default({}),
    /** Set when this device was merged into another (the survivor's uid); merged devices are hidden. */
    merged_into: text("merged_into"),
    deleted_at: timestamp("deleted_at", { withTimezone: true }),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updated_at: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "devices_pkey", columns: [t.tenant_id, t.uid] }),
    // One active device per address per partition; merged and deleted devices give theirs up.
    uniqueIndex("devices_active_ip")
      .on(t.tenant_id, t.partition, t.ip)
      .where(sql`${t.deleted_at} is null and ${t.merged_into} is null and ${t.ip} is not null`),
    // The device list filtered by hostname prefix (`LIKE 'abc%'` needs pattern ops) and partition.
    // Partition comes last: an index starting (tenant_id, partition) looked as good to the planner
    // as devices_active_ip for DIRE's address lookups while statistics lagged a bulk load.
    index("devices_hostname_partition").on(t.tenant_id, t.hostname.op("text_pattern_ops"), t.partition),
    // Deliberately no index on last_seen_time: every sighting moves it, and an index on it would
    // make every device update a non-HOT update (all indexes rewritten).
  ],
);

export const deviceIdentifiers = pgTable(
  "device_identifiers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id").notNull(),
    device_id: text("device_id").notNull(),
    /** The column is `type`; the attribute is `identifier_type` (JSON:API reserves `type`). */
    identifier_type: text("type", { enum: DEVICE_IDENTIFIER_TYPES }).notNull(),
    /** Normalised (MACs upper-case without separators). */
    value: text("value").notNull(),
    partition: text("partition").notNull().default("default"),
    confidence: text("confidence", { enum: IDENTIFIER_CONFIDENCES }).notNull(),
    source: text("source").notNull(),
    /** How many updates carried this identifier (promotion counts them). */
    sightings: integer("sightings").notNull().default(1),
    first_seen: timestamp("first_seen", { withTimezone: true }).notNull().defaultNow(),
    last_seen: timestamp("last_seen", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("device_identifiers_identity").on(t.tenant_id, t.identifier_type, t.value, t.partition),
    index("device_identifiers_device").on(t.tenant_id, t.device_id),
  ],
);

export const mergeAudits = pgTable(
  "merge_audits",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    /** The device merged away (or that would have been, when blocked). */
    from_device_id: text("from_device_id").notNull(),
    /** The survivor. */
    to_device_id: text("to_device_id").notNull(),
    partition: text("partition").notNull().default("default"),
    outcome: text("outcome", { enum: MERGE_OUTCOMES }).notNull(),
    reason: text("reason").notNull(),
    /** Identifiers moved from → to, which unmerge moves back. */
    identifiers: jsonb("identifiers")
      .$type<{ type: string; value: string; partition: string }[]>()
      .notNull()
      .default([]),
    /** The merged device's attributes before the merge, restored by unmerge. */
    snapshot: jsonb("snapshot").$type<Record<string, unknown>>().notNull().default({}),
    actor: text("actor").notNull(),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    unmerged_at: timestamp("unmerged_at", { withTimezone: true }),
    unmerged_by: text("unmerged_by"),
  },
  (t) => [
    // A blocked merge is recorded once per pair and reason: replaying a sync adds nothing.
    uniqueIndex("merge_audits_blocked_once")
      .on(t.tenant_id, t.from_device_id, t.to_device_id, t.reason)
      .where(sql`${t.outcome} = 'blocked'`),
    index("merge_audits_from").on(t.tenant_id, t.from_device_id),
    index("merge_audits_to").on(t.tenant_id, t.to_device_id),
  ],
);

export const deviceAliasStates = pgTable(
  "device_alias_states",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id").notNull(),
    device_id: text("device_id").notNull(),
    alias_type: text("alias_type", { enum: ALIAS_TYPES }).notNull(),
    alias_value: text("alias_value").notNull(),
    partition: text("partition").notNull().default("default"),
    state: text("state", { enum: ALIAS_STATES }).notNull().default("detected"),
    sightings: integer("sightings").notNull().default(1),
    /** The device that took this alias over (state `replaced`). */
    replaced_by: text("replaced_by"),
    first_seen: timestamp("first_seen", { withTimezone: true }).notNull().defaultNow(),
    last_seen: timestamp("last_seen", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("device_alias_states_alias").on(t.tenant_id, t.device_id, t.alias_type, t.alias_value),
    index("device_alias_states_value").on(t.tenant_id, t.partition, t.alias_type, t.alias_value),
  ],
);

export const interfaces = pgTable(
  "interfaces",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    device_id: text("device_id").notNull(),
    if_index: integer("if_index").notNull(),
    name: text("name"),
    description: text("description"),
    mac: text("mac"),
    ip_addresses: text("ip_addresses")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    speed_bps: bigint("speed_bps", { mode: "number" }),
    mtu: integer("mtu"),
    admin_status: text("admin_status", { enum: ["up", "down", "testing"] }),
    oper_status: text("oper_status", { enum: ["up", "down", "testing", "unknown", "dormant"] }),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updated_at: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("interfaces_device_index").on(t.tenant_id, t.device_id, t.if_index),
    foreignKey({
      name: "interfaces_device_fk",
      columns: [t.tenant_id, t.device_id],
      foreignColumns: [devices.tenant_id, devices.uid],
    }).onDelete("cascade"),
  ],
);
