import { defineConfig } from "drizzle-kit";

// Generates versioned SQL migrations from the drizzle schema. Sonde applies them with its own runner
// (src/platform/db/migrate.ts), which adds locking, checksums and down migrations.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/**/*.schema.ts",
  out: "./migrations",
});
