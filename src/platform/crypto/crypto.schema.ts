import { sql } from "drizzle-orm";
import { boolean, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

/**
 * Data keys for encrypted attributes (docs/encryption.md). Each row holds one 32-byte AES key, wrapped
 * (AES-256-GCM) under a key-encryption key derived from SONDE_SECRET; the database never sees a key in
 * the clear. Exactly one key is active (new values are encrypted with it); retired keys stay, because
 * values written under them must still decrypt until `sonde keys rotate` has moved them.
 */
export const encryptionKeys = pgTable(
  "encryption_keys",
  {
    /** Key id, named in every envelope: `k1`, `k2`, … */
    id: text("id").primaryKey(),
    /** `v1.<salt>.<iv>.<ciphertext+tag>` (base64url), see src/platform/crypto/wrap.ts. */
    wrapped: text("wrapped").notNull(),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    retired_at: timestamp("retired_at", { withTimezone: true }),
    active: boolean("active").notNull().default(false),
  },
  // Two processes creating or rotating keys at once cannot leave two active keys.
  (t) => [
    uniqueIndex("encryption_keys_one_active")
      .on(t.active)
      .where(sql`active`),
  ],
);
