import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Real databases, buses and child processes: generous per-test bound, but bounded.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two cores: more workers only add contention for PGlite's WebAssembly start-up.
    maxWorkers: 2,
    sequence: { hooks: "stack" },
  },
});
