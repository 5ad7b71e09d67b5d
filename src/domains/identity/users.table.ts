import { boolean, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { USER_STATUSES } from "./auth.schema.js";

/**
 * The `users` resource's view of better-auth's "user" table: the profile columns that the
 * application role may read (migrations/0005), under Sonde's snake_case attribute names.
 *
 * A second drizzle definition of the same table, on purpose: better-auth's adapter needs its own
 * camelCase keys (auth.schema.ts), the APIs need snake_case, and the application role is granted only
 * these columns. This file is not named `*.schema.ts`, so drizzle-kit does not see it and generates
 * the table's migrations from auth.schema.ts alone.
 */
export const users = pgTable("user", {
  id: text("id").primaryKey(),
  email: text("email").notNull(),
  name: text("name").notNull(),
  display_name: text("display_name"),
  email_verified: boolean("email_verified").notNull(),
  status: text("status", { enum: USER_STATUSES }).notNull(),
  super_user: boolean("super_user").notNull(),
  created_at: timestamp("created_at", { withTimezone: true }).notNull(),
  updated_at: timestamp("updated_at", { withTimezone: true }).notNull(),
});
