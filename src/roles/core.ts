import type { Logger } from "pino";
import { SONDE_VERSION } from "../lib/version.js";
import { pruneStaleCoreInstances, registerCoreInstance } from "../platform/cluster/core-instances.js";
import { pruneCoreInstancesJob } from "../platform/cluster/jobs.js";
import type { Config } from "../platform/config/index.js";
import { type Database, migrateUp, openDatabase } from "../platform/db/index.js";
import type { ReadinessCheck } from "../platform/health.js";
import { createJobQueue, type JobQueue } from "../platform/jobs/index.js";
import type { Runtime } from "./runtime.js";

export interface CoreContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly runtime: Runtime;
}

export interface CoreServices {
  readonly db: Database;
  readonly jobs: JobQueue;
  readonly readiness: readonly ReadinessCheck[];
}

/** Every job core knows; the queue refuses work for anything not listed here. */
const coreJobs = [pruneCoreInstancesJob];

/** Starts core's own components: database (migrated), job queue and workers, cluster membership. */
export async function startCore({ config, logger, runtime }: CoreContext): Promise<CoreServices> {
  const db = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.SONDE_DATA_DIR,
    poolMax: config.DATABASE_POOL_MAX,
    connectAttempts: config.DATABASE_CONNECT_ATTEMPTS,
    applicationName: `sonde-core-${config.SONDE_NODE_NAME}`,
    logger,
  });
  runtime.add({ name: "database", stop: () => db.close() });

  if (config.SONDE_MIGRATE_ON_START) {
    const applied = await migrateUp(db, { logger });
    logger.info({ applied: applied.length }, "migrations up to date");
  }

  const jobs = createJobQueue({ db, logger, definitions: coreJobs });
  await jobs.start();
  runtime.add({ name: "jobs", stop: () => jobs.stop({ graceMs: config.SONDE_SHUTDOWN_TIMEOUT_MS / 2 }) });
  await jobs.work(pruneCoreInstancesJob, async (payload) => {
    const removed = await pruneStaleCoreInstances(db, payload.staleAfterMs);
    if (removed > 0) logger.info({ removed }, "pruned stale core instances");
  });
  await jobs.schedule(pruneCoreInstancesJob, "* * * * *", {});

  const instance = await registerCoreInstance(
    db,
    { node: config.SONDE_NODE_NAME, version: SONDE_VERSION, roles: ["core"] },
    logger,
  );
  runtime.add({ name: "cluster-membership", stop: () => instance.stop() });

  return {
    db,
    jobs,
    readiness: [
      { name: "database", check: () => db.ping() },
      { name: "jobs", check: () => jobs.ping() },
    ],
  };
}
