import type { Logger } from "pino";
import type { Config } from "../platform/config/index.js";
import { type Database, openDatabase } from "../platform/db/index.js";

/**
 * The database as its schema owner, for the commands that run apart from core (migrate, keys, the
 * identity commands): DATABASE_MIGRATION_URL when set, else DATABASE_URL, else the embedded data dir,
 * which stays locked while the command runs so that a `sonde start` on it is refused, not corrupted.
 */
export function openOwnerDatabase(config: Config, logger: Logger, command: string): Promise<Database> {
  return openDatabase({
    url: config.DATABASE_MIGRATION_URL ?? config.DATABASE_URL,
    dataDir: config.SONDE_DATA_DIR,
    poolMax: 2,
    connectAttempts: config.DATABASE_CONNECT_ATTEMPTS,
    applicationName: `sonde-${command}`,
    logger,
  });
}
