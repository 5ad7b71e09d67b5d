import type { Logger } from "pino";
import { SondeError } from "../../lib/errors.js";
import { redactUrl } from "../config/load.js";
import { openEmbedded } from "./pglite.js";
import { openPostgres } from "./postgres.js";
import { errorReason, retryWithBackoff } from "./retry.js";
import type { Database } from "./types.js";

export { classifyDbError } from "./classify.js";
export { MIGRATIONS_DIR, migrateDown, migrateUp, migrationStatus } from "./migrate.js";
export type { Database, Orm, QueryResult, SqlExecutor } from "./types.js";

export interface OpenDatabaseOptions {
  /** PostgreSQL URL; undefined opens the embedded database. */
  readonly url: string | undefined;
  /** Embedded data dir, or `memory://`. */
  readonly dataDir: string;
  readonly poolMax: number;
  readonly connectAttempts: number;
  readonly applicationName: string;
  readonly logger: Logger;
  readonly initialRetryDelayMs?: number;
}

/**
 * Opens the database the configuration names and proves it answers. PostgreSQL gets bounded retries
 * with backoff (a database restarting alongside Sonde is normal); after the last attempt the error
 * names the (redacted) URL and the reason.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.url === undefined) {
    const db = await openEmbedded({ dataDir: options.dataDir });
    options.logger.info({ dataDir: options.dataDir }, "embedded database open");
    return db;
  }
  const url = options.url;
  const db = openPostgres({ url, poolMax: options.poolMax, applicationName: options.applicationName });
  const result = await retryWithBackoff(() => db.ping(), {
    attempts: options.connectAttempts,
    initialDelayMs: options.initialRetryDelayMs,
    logger: options.logger,
    what: "database connection",
  });
  if (!result.ok) {
    await db.close().catch(() => {});
    throw new SondeError(
      "SONDE_DB_UNREACHABLE",
      `cannot reach PostgreSQL at ${redactUrl(url)} after ${result.attempts} attempts: ${errorReason(result.error)}`,
      { cause: result.error },
    );
  }
  options.logger.info({ database: redactUrl(url) }, "database connected");
  return db;
}
