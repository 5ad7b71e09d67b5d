import type { Logger } from "pino";
import type { Config } from "../platform/config/index.js";
import { migrateDown, migrateUp, migrationStatus } from "../platform/db/index.js";
import { openOwnerDatabase } from "./owner-database.js";

export type MigrateAction = { action: "up" } | { action: "status" } | { action: "down"; steps: number };

/** `sonde migrate`: runs as the database owner, apart from any running core. Returns the exit code. */
export async function runMigrate(what: MigrateAction, config: Config, logger: Logger): Promise<number> {
  const db = await openOwnerDatabase(config, logger, "migrate");
  try {
    switch (what.action) {
      case "up": {
        const applied = await migrateUp(db, { logger });
        process.stdout.write(
          applied.length === 0 ? "migrations: up to date\n" : `migrations: applied ${applied.join(", ")}\n`,
        );
        return 0;
      }
      case "status": {
        for (const m of await migrationStatus(db)) {
          const when = m.appliedAt ? m.appliedAt.toISOString() : "pending";
          process.stdout.write(
            `${m.applied ? "applied" : "pending"}\t${m.tag}\t${when}${m.reversible ? "" : "\t(irreversible)"}\n`,
          );
        }
        return 0;
      }
      case "down": {
        const reverted = await migrateDown(db, { steps: what.steps, logger });
        process.stdout.write(`migrations: reverted ${reverted.join(", ") || "nothing"}\n`);
        return 0;
      }
    }
  } finally {
    await db.close();
  }
}
