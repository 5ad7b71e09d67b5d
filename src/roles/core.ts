import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { integrationSyncJob } from "../domains/integrations/sync/job.js";
import { syncJobHandler } from "../domains/integrations/sync/runner.js";
import { integrationTriggers } from "../domains/integrations/sync/triggers.js";
import type { CoreInstanceView } from "../domains/infrastructure/cluster-view.js";
import { startRegistryWatcher } from "../domains/infrastructure/registry/watcher.js";
import { CONTROL_BUCKET } from "../platform/fabric/contract.js";
import { CheckResults, RESULTS_DURABLE } from "../domains/infrastructure/scheduling/results.js";
import { CheckScheduler, SCHEDULER_LEASE } from "../domains/infrastructure/scheduling/scheduler.js";
import { IdentityCache } from "../domains/inventory/dire/identity-cache.js";
import { DeviceIngest } from "../domains/inventory/dire/ingest.js";
import { createInventoryMetrics } from "../domains/inventory/dire/metrics.js";
import { startSyncStream, SYNC_DURABLE } from "../domains/inventory/sync-stream.js";
import { Kernel } from "../kernel/kernel.js";
import { OutboxRelay } from "../kernel/outbox.js";
import type { KernelServices } from "../kernel/services.js";
import { createTriggerRunner, type TriggerSpec, triggerJobDefinitions } from "../kernel/triggers/index.js";
import type { Bus } from "../platform/bus/types.js";
import { SONDE_VERSION } from "../lib/version.js";
import {
  listCoreInstances,
  pruneStaleCoreInstances,
  registerCoreInstance,
} from "../platform/cluster/core-instances.js";
import { pruneCoreInstancesJob } from "../platform/cluster/jobs.js";
import type { Config } from "../platform/config/index.js";
import { type Keyring, openKeyring } from "../platform/crypto/index.js";
import { type Database, migrateUp, openDatabase } from "../platform/db/index.js";
import type { ReadinessCheck } from "../platform/health.js";
import { createJobQueue, type JobQueue, namedJobSender } from "../platform/jobs/index.js";
import { coreResources } from "./resources.js";
import type { Runtime } from "./runtime.js";

export interface CoreContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly runtime: Runtime;
  readonly bus: Bus;
  /** What actions reach after commit (the mailer for invitation links, the public URL). */
  readonly services: KernelServices;
  /** The process's Prometheus registry, for core's own series (DIRE). */
  readonly metrics?: Registry;
}

export interface CoreServices {
  readonly db: Database;
  readonly jobs: JobQueue;
  readonly kernel: Kernel;
  /** DIRE: reconciles device updates from every source (sync API, bus stream, integrations). */
  readonly ingest: DeviceIngest;
  /** The live core instances, for the cluster view. */
  readonly coreInstances: () => Promise<readonly CoreInstanceView[]>;
  readonly readiness: readonly ReadinessCheck[];
}

/** Every job core knows; the queue refuses work for anything not listed here. */
const coreJobs = [pruneCoreInstancesJob, integrationSyncJob];

/** Triggers the domains declare (scheduled scans that run an action on matching rows). */
const coreTriggers: readonly TriggerSpec[] = [...integrationTriggers];

/** How often core re-reads the keyring, so that a rotation elsewhere reaches its writes. */
const KEYRING_RELOAD_MS = 60_000;

/**
 * The schema owner's work at start: migrations (unless SONDE_MIGRATE_ON_START=false) and the first
 * encryption key, which only the owner may create. Both go through DATABASE_MIGRATION_URL when the
 * application logs in as a separate, non-owner role, else over the application's own connection.
 * Returns the keyring, loaded over the application's connection.
 */
async function prepareDatabase(config: Config, db: Database, logger: Logger): Promise<Keyring> {
  if (config.DATABASE_MIGRATION_URL === undefined) {
    if (config.SONDE_MIGRATE_ON_START) {
      const applied = await migrateUp(db, { logger });
      logger.info({ applied: applied.length }, "migrations up to date");
    }
    return openKeyring(db.orm, config.SONDE_SECRET);
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
    if (config.SONDE_MIGRATE_ON_START) {
      const applied = await migrateUp(owner, { logger });
      logger.info({ applied: applied.length, as: "owner" }, "migrations up to date");
    }
    await openKeyring(owner.orm, config.SONDE_SECRET);
  } finally {
    await owner.close();
  }
  return openKeyring(db.orm, config.SONDE_SECRET, { create: false });
}

/** Starts core's own components: database (migrated), job queue and workers, cluster membership. */
export async function startCore({
  config,
  logger,
  runtime,
  bus,
  services,
  metrics,
}: CoreContext): Promise<CoreServices> {
  const db = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.SONDE_DATA_DIR,
    poolMax: config.DATABASE_POOL_MAX,
    connectAttempts: config.DATABASE_CONNECT_ATTEMPTS,
    applicationName: `sonde-core-${config.SONDE_NODE_NAME}`,
    logger,
  });
  runtime.add({ name: "database", stop: () => db.close() });

  // A wrong SONDE_SECRET stops start-up here (SONDE_CONFIG_INVALID), before anything serves.
  const keyring = await prepareDatabase(config, db, logger);
  logger.info({ activeKey: keyring.activeKeyId }, "keyring loaded");
  const reload = setInterval(() => {
    keyring.reload().catch((err: unknown) => logger.warn({ err }, "keyring reload failed"));
  }, KEYRING_RELOAD_MS);
  reload.unref();
  runtime.add({ name: "keyring", stop: async () => clearInterval(reload) });

  // The queue before the kernel: actions enqueue jobs after commit (KernelServices.jobs), by name.
  const jobDefinitions = [...coreJobs, ...triggerJobDefinitions(coreTriggers)];
  const jobs = createJobQueue({ db, logger, definitions: jobDefinitions });
  const relay = new OutboxRelay({ orm: db.orm, bus, logger });
  const identityCache = new IdentityCache();
  const kernel = new Kernel({
    orm: db.orm,
    resources: coreResources,
    logger,
    keyring,
    // The bus too: poller actions tell pollers their operator intent through the control bucket.
    services: { ...services, bus, identityCache, jobs: namedJobSender(jobs, jobDefinitions) },
    onOutboxWrite: () => relay.nudge(),
  });
  relay.start();
  runtime.add({ name: "outbox-relay", stop: () => relay.stop() });
  const ingest = new DeviceIngest({
    kernel,
    logger,
    cache: identityCache,
    ...(metrics !== undefined ? { metrics: createInventoryMetrics(metrics) } : {}),
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
  await jobs.work(integrationSyncJob, syncJobHandler({ kernel, ingest, logger }));

  const instance = await registerCoreInstance(
    db,
    { node: config.SONDE_NODE_NAME, version: SONDE_VERSION, roles: ["core"] },
    logger,
  );
  runtime.add({ name: "cluster-membership", stop: () => instance.stop() });

  // Pollers' and edge collectors' updates (sonde.<tenant>.sync); stopped before the database closes.
  const syncStream = await startSyncStream({
    bus,
    orm: db.orm,
    ingest,
    logger,
    limits: { maxRecords: config.SONDE_SYNC_MAX_RECORDS },
    durable: `${SYNC_DURABLE}-${config.SONDE_CLUSTER_NAME}`,
    ...(metrics !== undefined ? { registry: metrics } : {}),
  });
  runtime.add({ name: "sync-stream", stop: () => syncStream.stop() });

  // Pollers' and agents' heartbeats (sonde-registry) become their records' lifecycle.
  const registry = await startRegistryWatcher({ kernel, orm: db.orm, bus, logger });
  runtime.add({ name: "registry-watcher", stop: () => registry.stop() });

  // Edges confined to their tenant (sonde nats-config) cannot create buckets: core creates them.
  await bus.kv(CONTROL_BUCKET);

  // Check results from every poller, on every core instance (a shared durable).
  const results: CheckResults = new CheckResults({
    kernel,
    orm: db.orm,
    bus,
    logger,
    durable: `${RESULTS_DURABLE}-${config.SONDE_CLUSTER_NAME}`,
    onSettled: (workId) => scheduler.settled(workId),
  });
  // One core instance schedules checkers (a lease in the bus KV); the others stand by.
  const scheduler: CheckScheduler = new CheckScheduler({
    kernel,
    orm: db.orm,
    bus,
    logger,
    holderId: instance.id,
    leaseName: `${SCHEDULER_LEASE}-${config.SONDE_CLUSTER_NAME}`,
    onLost: (tenant, work) => results.lost(tenant, work),
    ...(metrics !== undefined ? { registry: metrics } : {}),
  });
  await results.start();
  // Results stop after the scheduler, so that runs it dispatched last can still be counted.
  runtime.add({ name: "check-results", stop: () => results.stop() });
  await scheduler.start();
  runtime.add({ name: "check-scheduler", stop: () => scheduler.stop() });

  return {
    db,
    jobs,
    kernel,
    ingest,
    coreInstances: async () =>
      (await listCoreInstances(db)).map((c) => ({
        id: c.id,
        node: c.node,
        version: c.version,
        roles: c.roles,
        started_at: c.startedAt.toISOString(),
        heartbeat_at: c.heartbeatAt.toISOString(),
      })),
    readiness: [
      { name: "database", check: () => db.ping() },
      { name: "jobs", check: () => jobs.ping() },
    ],
  };
}
