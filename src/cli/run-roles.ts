import type { Logger } from "pino";
import type { Config } from "../platform/config/index.js";
import { type ProcessOptions, type RoleName, startProcess } from "../roles/process.js";
import { exitOnSignals } from "../roles/runtime.js";

/** Starts the roles and keeps the process alive until a signal drains it. */
export async function runRoles(
  roles: readonly RoleName[],
  config: Config,
  logger: Logger,
  options: ProcessOptions = {},
): Promise<void> {
  logger.info(
    {
      roles,
      database: config.mode.database,
      bus: config.mode.bus,
      secretSource: config.secretSource,
      dataDir: config.mode.database === "embedded" ? config.SONDE_DATA_DIR : undefined,
    },
    "starting sonde",
  );
  const running = await startProcess(roles, config, logger, options);
  exitOnSignals(running.runtime, logger, config.SONDE_SHUTDOWN_TIMEOUT_MS);
}
