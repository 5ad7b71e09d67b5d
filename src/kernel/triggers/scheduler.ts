import type { Logger } from "pino";
import { SondeError } from "../../lib/errors.js";
import type { Orm } from "../../platform/db/types.js";
import type { JobQueue, WorkerHandle } from "../../platform/jobs/index.js";
import { Sleeper } from "../../platform/jobs/timing.js";
import type { Kernel } from "../kernel.js";
import { type RunOutcome, runRow } from "./execute.js";
import { type TriggerJobDefinition, triggerJobs } from "./jobs.js";
import { allTenants, type ScanResult, scanAll, type TenantRef, tenantBySlug } from "./scan.js";
import type { TriggerSpec } from "./types.js";
import { type ResolvedTrigger, verifyTriggers } from "./verify.js";

export interface TriggerRunnerOptions {
  readonly kernel: Kernel;
  readonly orm: Orm;
  /** A queue created with `triggerJobDefinitions(triggers)` among its definitions. */
  readonly jobs: JobQueue<TriggerJobDefinition>;
  readonly logger: Logger;
  readonly triggers: readonly TriggerSpec[];
  /** How often to look for tenants without workers. Default 60 000 ms; scans also find them. */
  readonly tenantRefreshMs?: number;
}

export interface TriggerRunner {
  readonly triggers: readonly ResolvedTrigger[];
  /**
   * Registers each trigger's cron schedule (replacing an older one of the same trigger), starts a scan
   * worker per trigger, run workers for every tenant, and the periodic tenant refresh.
   */
  start(): Promise<void>;
  /** Scans now, as the scheduled job does (every tenant); resolves with what it found and enqueued. */
  scan(trigger: string): Promise<ScanResult>;
  /** Claims and runs one row now, outside the queue (no retries, no onError): for tools and tests. */
  run(trigger: string, target: { readonly tenant: string; readonly id: string }): Promise<RunOutcome>;
  /** Starts run workers for tenants that have none yet; resolves with how many tenants were new. */
  refreshTenants(): Promise<number>;
  /** Stops the refresh and this runner's workers (schedules stay: they belong to the database). */
  stop(): Promise<void>;
}

const DEFAULT_REFRESH_MS = 60_000;

/**
 * The trigger runner: verifies the triggers against the kernel (boot fails on a bad one), then, once
 * started, keeps one scan worker per trigger and one run worker per trigger and tenant. Every core
 * process may run one; pg-boss's cron fires each schedule once per minute across all of them, and
 * each job goes to one worker.
 */
export function createTriggerRunner(options: TriggerRunnerOptions): TriggerRunner {
  const { kernel, orm, jobs } = options;
  const logger = options.logger.child({ component: "triggers" });
  const resolved = verifyTriggers(kernel, options.triggers);
  const byName = new Map(resolved.map((t) => [t.name, t]));
  const deps = { kernel, orm, jobs, logger };
  const handles: Promise<WorkerHandle>[] = [];
  // `<trigger>/<tenant slug>` → its run worker being started; each is started once.
  const runWorkers = new Map<string, Promise<void>>();
  const refreshSleeper = new Sleeper();
  let refreshLoop: Promise<void> | undefined;
  let stopped = false;

  function trigger(name: string): ResolvedTrigger {
    const t = byName.get(name);
    if (t === undefined)
      throw new SondeError("SONDE_NOT_FOUND", `unknown trigger ${name}`, { meta: { trigger: name } });
    return t;
  }

  /** Starts the run worker of one trigger for one tenant, once; a failed start is retried by the next call. */
  function startWorker(t: ResolvedTrigger, tenant: TenantRef): Promise<void> {
    const key = `${t.name}/${tenant.slug}`;
    const known = runWorkers.get(key);
    if (known !== undefined) return known;
    // A scan still running when the runner stops must not start workers nobody will stop.
    if (stopped) return Promise.resolve();
    const handle = jobs.work(
      triggerJobs(t.spec).run,
      // pg-boss counts retries; the attempt after the last retry is the final one.
      async (payload, ctx) => {
        await runRow(deps, t, tenant, payload.id, { final: ctx.retryCount >= ctx.retryLimit });
      },
      { tenant: tenant.slug },
    );
    handles.push(handle);
    const started = handle.then(() => undefined);
    runWorkers.set(key, started);
    started.catch((err: unknown) => {
      runWorkers.delete(key);
      logger.error({ err, trigger: t.name, tenant: tenant.slug }, "could not start a trigger worker");
    });
    return started;
  }

  async function startTenant(tenant: TenantRef): Promise<void> {
    for (const t of resolved) await startWorker(t, tenant);
  }

  async function refreshTenants(): Promise<number> {
    let fresh = 0;
    for await (const tenant of allTenants(orm)) {
      if (stopped) break;
      if (resolved.every((t) => runWorkers.has(`${t.name}/${tenant.slug}`))) continue;
      fresh += 1;
      await startTenant(tenant).catch(() => {}); // logged by startWorker
    }
    return fresh;
  }

  async function refreshPeriodically(ms: number): Promise<void> {
    while (!stopped) {
      await refreshSleeper.sleep(ms);
      if (stopped) return;
      await refreshTenants().catch((err: unknown) => logger.warn({ err }, "trigger tenant refresh failed"));
    }
  }

  function scan(name: string): Promise<ScanResult> {
    return scanAll(deps, trigger(name), (tenant) => startTenant(tenant));
  }

  return {
    triggers: resolved,
    async start() {
      for (const t of resolved) {
        const { scan: scanJob } = triggerJobs(t.spec);
        await jobs.schedule(scanJob, t.spec.cron, {});
        const handle = jobs.work(scanJob, async () => {
          await scan(t.name);
        });
        handles.push(handle);
        await handle;
      }
      await refreshTenants();
      refreshLoop = refreshPeriodically(options.tenantRefreshMs ?? DEFAULT_REFRESH_MS);
      logger.info({ triggers: resolved.map((t) => t.name), workers: runWorkers.size }, "triggers started");
    },
    scan,
    async run(name, target) {
      const t = trigger(name);
      const tenant = await tenantBySlug(orm, target.tenant);
      if (tenant === undefined) {
        throw new SondeError("SONDE_NOT_FOUND", `unknown tenant ${target.tenant}`, {
          meta: { tenant: target.tenant },
        });
      }
      return runRow(deps, t, tenant, target.id, { final: false });
    },
    refreshTenants,
    async stop() {
      stopped = true;
      refreshSleeper.wake();
      await refreshLoop;
      const settled = await Promise.allSettled(handles.splice(0));
      await Promise.all(settled.map((s) => (s.status === "fulfilled" ? s.value.stop() : undefined)));
    },
  };
}
