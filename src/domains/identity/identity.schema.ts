import { sql } from "drizzle-orm";
import { index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { tenants } from "../../kernel/kernel.schema.js";
import { authUser } from "./auth.schema.js";

/**
 * Sonde's own identity tables, both tenant-scoped under row-level security (migrations/0005):
 * API tokens and invitations. Each keeps only a SHA-256 of its secret; the secret itself is shown
 * once (the token, on create) or mailed once (the invitation link).
 */

export const API_TOKEN_SCOPES = ["read", "write", "admin"] as const;

export const apiTokens = pgTable(
  "api_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    /** Whose token it is: it acts as this user, with their role in the tenant, narrowed by its scope. */
    user_id: text("user_id")
      .notNull()
      .references(() => authUser.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** The first characters of the token, shown to users so that they can tell tokens apart. */
    prefix: text("prefix").notNull(),
    /** SHA-256 (hex) of the token; the token itself is never stored. */
    token_hash: text("token_hash").notNull(),
    scope: text("scope", { enum: API_TOKEN_SCOPES }).notNull(),
    expires_at: timestamp("expires_at", { withTimezone: true }),
    last_used_at: timestamp("last_used_at", { withTimezone: true }),
    last_used_ip: text("last_used_ip"),
    use_count: integer("use_count").notNull().default(0),
    revoked_at: timestamp("revoked_at", { withTimezone: true }),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("api_tokens_token_hash").on(t.token_hash),
    index("api_tokens_tenant_user").on(t.tenant_id, t.user_id),
  ],
);

export const INVITATION_STATES = ["pending", "accepted", "revoked"] as const;

export const invitations = pgTable(
  "invitations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    role: text("role", { enum: ["viewer", "operator", "admin"] }).notNull(),
    state: text("state", { enum: INVITATION_STATES }).notNull().default("pending"),
    /** SHA-256 (hex) of the secret in the mailed link. */
    token_hash: text("token_hash").notNull(),
    expires_at: timestamp("expires_at", { withTimezone: true }).notNull(),
    invited_by: text("invited_by").notNull(),
    accepted_by: text("accepted_by"),
    accepted_at: timestamp("accepted_at", { withTimezone: true }),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("invitations_token_hash").on(t.token_hash),
    index("invitations_tenant_email").on(t.tenant_id, sql`lower(${t.email})`),
  ],
);
