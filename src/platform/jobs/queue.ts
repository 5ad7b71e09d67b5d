import PgBoss from "pg-boss";
import type { Logger } from "pino";
import { assertNever, SondeError } from "../../lib/errors.js";
import type { Database } from "../db/types.js";
import { type BossDb, bossDb } from "./boss-db.js";
import { listQueues } from "./inspect.js";
import { deadLetterName, queueName } from "./names.js";
import { checkInteger, checkPollingInterval, toSendOptions } from "./options.js";
import { createPauseState, type PauseState } from "./pause.js";
import { isConcurrentCreation } from "./races.js";
import { type AnyJobDefinition, indexDefinitions, type JobPayload, payloadForSend } from "./registry.js";
import { createQueueStore, type QueueStore } from "./store.js";
import { pollUntil, settlesWithin } from "./timing.js";
import type { JobHandler, JobQueue, SendOptions, WorkerHandle, WorkOptions } from "./types.js";
import { QueueWorker } from "./worker.js";

export interface JobQueueOptions<Defs extends readonly AnyJobDefinition[]> {
  readonly db: Database;
  readonly logger: Logger;
  /** Every job this queue may send or work; anything else is refused (SONDE_JOB_UNKNOWN_QUEUE). */
  readonly definitions: Defs;
  /** PostgreSQL schema for pg-boss's tables. Default "pgboss". */
  readonly schema?: string;
  /** How often an idle worker polls. Default 2; pg-boss's minimum is 0.5. */
  readonly pollingIntervalSeconds?: number;
  /**
   * How often pg-boss checks cron schedules and moves due ones into their queues (1–45). Default:
   * pg-boss's (30s check, 5s hand-over). Cron itself stays minute-grained.
   */
  readonly cronIntervalSeconds?: number;
}

type State = "created" | "starting" | "running" | "stopping" | "stopped";

/** A worker as the queue sees it, whatever its job type. */
interface RunningWorker {
  readonly queue: string;
  readonly done: Promise<void>;
  wake(): void;
  stop(): void;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,49}$/;
const DEFAULT_GRACE_MS = 10_000;
// After the grace period, aborted handlers only need to record their failure; bound that too.
const ABORT_SETTLE_MS = 5_000;
const DRAIN_MS = 5_000;

function configError(message: string): SondeError {
  return new SondeError("SONDE_CONFIG_INVALID", `job queue: ${message}`);
}

/**
 * Creates the job queue: pg-boss over Sonde's `Database` (embedded or PostgreSQL alike), behind the
 * typed registry. Nothing touches the database until `start()`.
 */
export function createJobQueue<const Defs extends readonly AnyJobDefinition[]>(
  options: JobQueueOptions<Defs>,
): JobQueue<Defs[number]> {
  type D = Defs[number];
  const schema = options.schema ?? "pgboss";
  if (!SCHEMA_NAME.test(schema)) throw configError(`schema "${schema}" must match ${SCHEMA_NAME.source}`);
  checkPollingInterval("pollingIntervalSeconds", options.pollingIntervalSeconds);
  checkInteger("cronIntervalSeconds", options.cronIntervalSeconds, 1, 45);
  const registry = indexDefinitions(options.definitions);
  const logger = options.logger.child({ component: "jobs" });
  const pollingMs = (options.pollingIntervalSeconds ?? 2) * 1000;
  const adapter: BossDb = bossDb(options.db);
  const cron = options.cronIntervalSeconds;
  let boss: PgBoss | undefined;
  const running = (): PgBoss => {
    if (boss === undefined) throw new SondeError("SONDE_JOB_QUEUE_NOT_RUNNING", "job queue is not started");
    return boss;
  };
  const store: QueueStore = createQueueStore({ db: options.db, boss: running, schema, logger });
  const pauses: PauseState = createPauseState({ db: options.db, schema, logger, maxAgeMs: pollingMs });
  const shutdown = new AbortController();
  const workers = new Set<RunningWorker>();
  let state: State = "created";
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  /** The registered definition, or SONDE_JOB_UNKNOWN_QUEUE. */
  function registered(def: AnyJobDefinition): AnyJobDefinition {
    const found = registry.get(def.name);
    const meta = { job: def.name };
    if (found === undefined) {
      throw new SondeError("SONDE_JOB_UNKNOWN_QUEUE", `job "${def.name}" is not registered with this queue`, {
        meta,
      });
    }
    if (found !== def) {
      const message = `job "${def.name}" was registered from a different definition than the one given`;
      throw new SondeError("SONDE_JOB_UNKNOWN_QUEUE", message, { meta });
    }
    return found;
  }

  /** Reads need pg-boss's tables, which exist once the queue has started. */
  function assertStarted(what: string): void {
    if (state === "created" || state === "starting") {
      throw new SondeError("SONDE_JOB_QUEUE_NOT_RUNNING", `job queue is not started: cannot ${what}`);
    }
  }

  function assertRunning(what: string, allowStopping = false): void {
    switch (state) {
      case "running":
        return;
      case "stopping":
        if (allowStopping) return;
        throw new SondeError("SONDE_SHUTTING_DOWN", `job queue is stopping: cannot ${what}`);
      case "stopped":
        throw new SondeError("SONDE_JOB_QUEUE_NOT_RUNNING", `job queue is stopped: cannot ${what}`);
      case "created":
      case "starting":
        throw new SondeError("SONDE_JOB_QUEUE_NOT_RUNNING", `job queue is not started: cannot ${what}`);
      default:
        assertNever(state, "job queue state");
    }
  }

  function newBoss(): PgBoss {
    const instance = new PgBoss({
      db: adapter,
      schema,
      ...(cron === undefined ? {} : { cronMonitorIntervalSeconds: cron, cronWorkerIntervalSeconds: cron }),
    });
    // pg-boss emits maintenance and cron errors; an EventEmitter without an error listener would throw.
    instance.on("error", (err) => logger.warn({ err }, "pg-boss background error"));
    return instance;
  }

  /**
   * Installs or migrates pg-boss's schema and starts its maintenance and cron. When another process
   * installs the same schema at the same moment, pg-boss's start fails (races.ts); a failed pg-boss
   * instance cannot start again (its "starting" flag stays set), so a fresh one retries, and finds the
   * schema installed.
   */
  async function startBoss(): Promise<PgBoss> {
    for (let attempt = 1; ; attempt += 1) {
      const instance = newBoss();
      try {
        await instance.start();
        return instance;
      } catch (err) {
        // Nothing was started (pg-boss starts its timers only after the schema is in place).
        instance.removeAllListeners("error");
        if (attempt >= 3 || !isConcurrentCreation(err)) throw err;
        logger.info({ err, attempt }, "pg-boss schema was being installed concurrently; retrying");
      }
    }
  }

  async function start(): Promise<void> {
    if (state === "running") return;
    if (starting !== undefined) return starting;
    if (state !== "created")
      throw new SondeError("SONDE_JOB_QUEUE_NOT_RUNNING", "a stopped job queue cannot restart");
    state = "starting";
    starting = (async () => {
      try {
        boss = await startBoss();
        await pauses.install();
        for (const def of registry.values()) await store.ensure(def, undefined);
        state = "running";
        logger.info({ schema, jobs: [...registry.keys()] }, "job queue started");
      } catch (err) {
        state = "created";
        throw err;
      } finally {
        starting = undefined;
      }
    })();
    return starting;
  }

  async function send(
    def: AnyJobDefinition,
    payload: unknown,
    opts: SendOptions = {},
  ): Promise<string | null> {
    assertRunning(`send "${def.name}"`, true);
    const job = registered(def);
    const data = payloadForSend(job, payload);
    const sendOptions = toSendOptions(job, opts);
    const queue = await store.ensure(job, opts.tenant);
    const id = await running().send(queue, data, sendOptions);
    // In one process (embedded mode, tests) a worker of this queue can start at once, not at its next poll.
    if (id !== null && opts.startAfter === undefined) {
      for (const worker of workers) if (worker.queue === queue) worker.wake();
    }
    return id;
  }

  async function work<J extends D>(
    def: J,
    handler: JobHandler<JobPayload<J>>,
    opts: WorkOptions = {},
  ): Promise<WorkerHandle> {
    assertRunning(`work "${def.name}"`);
    const job = registered(def);
    checkInteger("batchSize", opts.batchSize, 1, 100);
    checkInteger("concurrency", opts.concurrency, 1, 64);
    checkPollingInterval("pollingIntervalSeconds", opts.pollingIntervalSeconds);
    const queue = await store.ensure(job, opts.tenant);
    const mine: RunningWorker[] = [];
    for (let i = 0; i < (opts.concurrency ?? 1); i += 1) {
      const worker: RunningWorker = new QueueWorker<J>({
        boss: running(),
        def,
        queue,
        tenant: opts.tenant,
        handler,
        batchSize: opts.batchSize ?? 1,
        intervalMs:
          opts.pollingIntervalSeconds === undefined ? pollingMs : opts.pollingIntervalSeconds * 1000,
        logger,
        shutdown: shutdown.signal,
        forbidRetries: store.forbidRetries,
        paused: pauses.holds,
      });
      workers.add(worker);
      mine.push(worker);
    }
    return {
      queue,
      async stop() {
        for (const worker of mine) worker.stop();
        await Promise.all(mine.map((w) => w.done));
        for (const worker of mine) workers.delete(worker);
      },
    };
  }

  async function stopNow(graceMs: number): Promise<void> {
    for (const worker of workers) worker.stop();
    const allDone = () => Promise.all([...workers].map((w) => w.done));
    if (!(await settlesWithin(allDone(), graceMs))) {
      logger.warn({ graceMs }, "handlers still running after the grace period; aborting them");
      shutdown.abort(
        new SondeError("SONDE_SHUTTING_DOWN", "the job queue stopped before the handler finished"),
      );
      await settlesWithin(allDone(), ABORT_SETTLE_MS);
    }
    workers.clear();
    // Our workers are done; pg-boss only has its cron hand-over worker and timers left.
    await boss?.stop({ graceful: false, close: false });
    // pg-boss completes its cron hand-over jobs without awaiting; let those writes land before the
    // caller closes the database.
    await pollUntil(() => adapter.pending === 0, DRAIN_MS);
  }

  async function stop(opts: { readonly graceMs?: number } = {}): Promise<void> {
    if (stopping !== undefined) return stopping;
    if (starting !== undefined) await starting.catch(() => {});
    if (state === "created" || state === "stopped") {
      state = "stopped";
      return;
    }
    state = "stopping";
    stopping = stopNow(opts.graceMs ?? DEFAULT_GRACE_MS).finally(() => {
      state = "stopped";
      logger.info("job queue stopped");
    });
    return stopping;
  }

  return {
    start,
    send,
    work,
    async schedule(def, cronExpression, payload, opts = {}) {
      assertRunning(`schedule "${def.name}"`);
      const job = registered(def);
      const data = payloadForSend(job, payload);
      const queue = await store.ensure(job, opts.tenant);
      await store.schedule(queue, cronExpression, data, opts.tz ?? "UTC");
    },
    async unschedule(def, opts = {}) {
      assertRunning(`unschedule "${def.name}"`);
      await running().unschedule(queueName(registered(def).name, opts.tenant));
    },
    async schedules() {
      assertStarted("list schedules");
      return store.schedules();
    },
    async stats(def, opts = {}) {
      assertStarted(`count "${def.name}"`);
      return store.stats(queueName(registered(def).name, opts.tenant));
    },
    async pause(def, opts = {}) {
      assertStarted(`pause "${def.name}"`);
      await pauses.set(queueName(registered(def).name, opts.tenant), true);
    },
    async resume(def, opts = {}) {
      assertStarted(`resume "${def.name}"`);
      const queue = queueName(registered(def).name, opts.tenant);
      await pauses.set(queue, false);
      for (const worker of workers) if (worker.queue === queue) worker.wake();
    },
    async isPaused(def, opts = {}) {
      assertStarted(`read the pause flag of "${def.name}"`);
      return pauses.isPaused(queueName(registered(def).name, opts.tenant));
    },
    async queues() {
      assertStarted("list queues");
      return listQueues(options.db, schema, await pauses.paused());
    },
    async deadLetters(def, opts = {}) {
      assertStarted(`list dead letters of "${def.name}"`);
      const job = registered(def);
      if (!job.deadLetter) return [];
      checkInteger("limit", opts.limit, 1, 10_000);
      return store.deadLetters(deadLetterName(queueName(job.name, opts.tenant)), opts.limit ?? 100);
    },
    async ping() {
      assertRunning("answer a readiness check");
      await store.ping();
    },
    stop,
  };
}
