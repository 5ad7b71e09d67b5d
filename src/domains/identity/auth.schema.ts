import { bigint, boolean, index, integer, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { tenants } from "../../kernel/kernel.schema.js";

/**
 * better-auth's tables (user, session, account, verification, rate_limit) and Sonde's memberships.
 *
 * better-auth's drizzle adapter finds a field by the table's property key, so the keys below are
 * better-auth's own field names (camelCase) while the columns stay snake_case like the rest of
 * Sonde. Ids are better-auth's generated text ids. These tables are global (a user may belong to
 * several tenants) and hold secrets: only the schema owner's connection touches them (see
 * migrations/0004_identity.sql); `memberships` is tenant-scoped under row-level security.
 */

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

export const USER_STATUSES = ["active", "disabled"] as const;

export const authUser = pgTable("user", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  email: text("email").notNull().unique(),
  emailVerified: boolean("email_verified").notNull().default(false),
  image: text("image"),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
  // Sonde's additional fields (declared to better-auth in auth.ts as `additionalFields`).
  displayName: text("display_name"),
  status: text("status", { enum: USER_STATUSES }).notNull().default("active"),
  /** Platform operator: may act in any tenant with `X-Sonde-Tenant`, every such request audited. */
  superUser: boolean("super_user").notNull().default(false),
});

export const authSession = pgTable(
  "session",
  {
    id: text("id").primaryKey(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    token: text("token").notNull().unique(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    userId: text("user_id")
      .notNull()
      .references(() => authUser.id, { onDelete: "cascade" }),
    /** The tenant a member of several chose for this session (null: their only or first one). */
    activeTenantId: uuid("active_tenant_id").references(() => tenants.id, { onDelete: "set null" }),
  },
  (t) => [index("session_user_id").on(t.userId)],
);

export const authAccount = pgTable(
  "account",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    providerId: text("provider_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => authUser.id, { onDelete: "cascade" }),
    accessToken: text("access_token"),
    refreshToken: text("refresh_token"),
    idToken: text("id_token"),
    accessTokenExpiresAt: timestamp("access_token_expires_at", { withTimezone: true }),
    refreshTokenExpiresAt: timestamp("refresh_token_expires_at", { withTimezone: true }),
    scope: text("scope"),
    /** The password hash (scrypt, better-auth's default), never the password. */
    password: text("password"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("account_user_id").on(t.userId)],
);

export const authVerification = pgTable(
  "verification",
  {
    id: text("id").primaryKey(),
    identifier: text("identifier").notNull(),
    value: text("value").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("verification_identifier").on(t.identifier)],
);

/**
 * better-auth's rate-limit counters (`rateLimit.storage: "database"`): in the database, so that every
 * core process counts the same sign-in attempts.
 */
export const authRateLimit = pgTable("rate_limit", {
  id: text("id").primaryKey(),
  key: text("key").notNull().unique(),
  count: integer("count").notNull(),
  lastRequest: bigint("last_request", { mode: "number" }).notNull(),
});

export const MEMBERSHIP_ROLES = ["viewer", "operator", "admin"] as const;

/** A user's role in one tenant; tenant-scoped, under row-level security. */
export const memberships = pgTable(
  "memberships",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    user_id: text("user_id")
      .notNull()
      .references(() => authUser.id, { onDelete: "cascade" }),
    role: text("role", { enum: MEMBERSHIP_ROLES }).notNull(),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("memberships_tenant_user").on(t.tenant_id, t.user_id),
    index("memberships_user").on(t.user_id),
  ],
);

/** The tables better-auth's adapter reads and writes, under its model names. */
export const authSchema = {
  user: authUser,
  session: authSession,
  account: authAccount,
  verification: authVerification,
  rateLimit: authRateLimit,
};
