import type { Logger } from "pino";
import { Kernel } from "../kernel/kernel.js";
import { OutboxRelay } from "../kernel/outbox.js";
import type { ResourceDeclaration } from "../kernel/resource/define.js";
import { createTriggerRunner, type TriggerSpec, triggerJobDefinitions } from "../kernel/triggers/index.js";
import type { Bus } from "../platform/bus/types.js";
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
  readonly bus: Bus;
}

export interface CoreServices {
  readonly db: Database;
  readonly jobs: JobQueue;
  readonly kernel: Kernel;
  readonly readiness: readonly ReadinessCheck[];
}

/** Every job core knows; the queue refuses work for anything not listed here. */
const coreJobs = [pruneCoreInstancesJob];

/** Triggers the domains declare (scheduled scans that run an action on matching rows). */
const coreTriggers: readonly TriggerSpec[] = [];

/** Resources the domains declare (the kernel adds its own, such as the audit log). */
const coreResources: readonly ResourceDeclaration[] = [];

/**
 * Applies migrations as the schema owner: through DATABASE_MIGRATION_URL when the application logs in
 * as a separate, non-owner role, else on the application's own connection.
 */
async function migrate(config: Config, db: Database, logger: Logger): Promise<void> {
  if (config.DATABASE_MIGRATION_URL === undefined) {
    const applied = await migrateUp(db, { logger });
    logger.info({ applied: applied.length }, "migrations up to date");
    return;
  }
  const owner = await openDatabase({
    url: config.DATABASE_MIGRATION_URL,
    dataDir: config.SONDE_DATA_DIR,
    poolMax: 1,
    connectAttempts: config.DATABASE_CONNECT_ATTEMPTS,
    applicationName: `sonde-migrate-${config.SONDE_NODE_NAME}`,
    logger,
  });
  try {
    const applied = await migrateUp(owner, { logger });
    logger.info({ applied: applied.length, as: "owner" }, "migrations up to date");
  } finally {
    await owner.close();
  }
}

/** Starts core's own components: database (migrated), job queue and workers, cluster membership. */
export async function startCore({ config, logger, runtime, bus }: CoreContext): Promise<CoreServices> {
  const db = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.SONDE_DATA_DIR,
    poolMax: config.DATABASE_POOL_MAX,
    connectAttempts: config.DATABASE_CONNECT_ATTEMPTS,
    applicationName: `sonde-core-${config.SONDE_NODE_NAME}`,
    logger,
  });
  runtime.add({ name: "database", stop: () => db.close() });

  if (config.SONDE_MIGRATE_ON_START) await migrate(config, db, logger);

  const relay = new OutboxRelay({ orm: db.orm, bus, logger });
  const kernel = new Kernel({
    orm: db.orm,
    resources: coreResources,
    logger,
    onOutboxWrite: () => relay.nudge(),
  });
  relay.start();
  runtime.add({ name: "outbox-relay", stop: () => relay.stop() });

  const jobs = createJobQueue({
    db,
    logger,
    definitions: [...coreJobs, ...triggerJobDefinitions(coreTriggers)],
  });
  await jobs.start();
  runtime.add({ name: "jobs", stop: () => jobs.stop({ graceMs: config.SONDE_SHUTDOWN_TIMEOUT_MS / 2 }) });
  const triggers = createTriggerRunner({ kernel, orm: db.orm, jobs, logger, triggers: coreTriggers });
  await triggers.start();
  runtime.add({ name: "triggers", stop: () => triggers.stop() });
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
    kernel,
    readiness: [
      { name: "database", check: () => db.ping() },
      { name: "jobs", check: () => jobs.ping() },
    ],
  };
}
