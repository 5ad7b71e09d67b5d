import type { AnyJobDefinition, JobInput, JobPayload } from "./registry.js";

/**
 * The job queue's public surface.
 *
 * Terminology (see also registry.ts):
 * - queue: a pg-boss queue. Each job definition has one (`<job>`), one per tenant that used it
 *   (`<job>/<tenant>`, created on first use), and a dead-letter queue for each (`<queue>.dead`).
 * - worker: a polling loop that fetches jobs from one queue and runs a handler on them. `work()`
 *   starts `concurrency` workers; each fetches up to `batchSize` jobs and runs them concurrently.
 * - tenant queue: a tenant's own queue of a job, so that one tenant's backlog cannot starve another's;
 *   a worker serves one queue, and a job sent for tenant A is never fetched by tenant B's worker.
 * - paused queue: one whose workers do not fetch; it still accepts jobs (see `JobQueue.pause`).
 */

export interface SendOptions {
  /** Send to this tenant's queue of the job (created on first use). */
  readonly tenant?: string;
  /**
   * Deduplication key; its meaning depends on the job's `policy` (see `JobSpec.policy`). On a
   * `standard` queue it requires `singletonSeconds`. A dropped send returns null.
   */
  readonly singletonKey?: string;
  /** With `singletonKey` (or alone): at most one job per key per slot of this many seconds. */
  readonly singletonSeconds?: number;
  /** Do not run before this time (a Date, or seconds from now). */
  readonly startAfter?: Date | number;
  /** Higher runs first. Integer, default 0. */
  readonly priority?: number;
}

export interface JobContext {
  readonly id: string;
  /** The pg-boss queue the job came from. */
  readonly queue: string;
  readonly tenant: string | undefined;
  /** 1 for the first delivery, 2 for the first retry, … */
  readonly attempt: number;
  /** Retries so far (attempt − 1). */
  readonly retryCount: number;
  readonly retryLimit: number;
  /**
   * Aborted when the attempt exceeds the job's `expireInSeconds`, or when `stop()` gives up waiting.
   * The attempt then fails (and is retried if attempts remain); a handler should stop its work.
   */
  readonly signal: AbortSignal;
}

/** Resolves when the job is done; a rejection fails the attempt. */
export type JobHandler<Payload> = (payload: Payload, ctx: JobContext) => Promise<void>;

export interface WorkOptions {
  /** Work this tenant's queue of the job. */
  readonly tenant?: string;
  /** Jobs fetched per poll, run concurrently. Default 1. */
  readonly batchSize?: number;
  /** Polling loops for this queue. Default 1. */
  readonly concurrency?: number;
  /** Overrides the queue-wide polling interval for these workers (minimum 0.5). */
  readonly pollingIntervalSeconds?: number;
}

export interface WorkerHandle {
  readonly queue: string;
  /** Stops fetching and waits for this worker's running handlers. */
  stop(): Promise<void>;
}

export interface QueueScope {
  readonly tenant?: string;
}

export interface ScheduleOptions extends QueueScope {
  /** IANA time zone for the cron expression. Default UTC. */
  readonly tz?: string;
}

/** Live jobs of one queue by state. Archived jobs (completed or failed long ago) are not counted. */
export interface JobStats {
  readonly created: number;
  readonly retry: number;
  readonly active: number;
  readonly completed: number;
  readonly cancelled: number;
  readonly failed: number;
  readonly total: number;
}

/** One queue (not a dead letter) as `queues()` reports it. */
export interface QueueInfo {
  readonly queue: string;
  readonly job: string;
  readonly tenant: string | undefined;
  /** Whether its workers (in every process) hold off fetching; see `JobQueue.pause`. */
  readonly paused: boolean;
  readonly counts: JobStats;
  /** Jobs in its dead-letter queue (0 when the job keeps none). */
  readonly deadLetters: number;
}

export interface DeadLetter {
  readonly id: string;
  readonly queue: string;
  /** As stored; it may be the payload that failed validation, hence unknown. */
  readonly payload: unknown;
  /** The last attempt's error as recorded (`{ name, message, code? }`). */
  readonly error: unknown;
  readonly createdOn: Date;
}

export interface ScheduleInfo {
  readonly queue: string;
  readonly job: string;
  readonly tenant: string | undefined;
  readonly cron: string;
  readonly timezone: string;
  readonly payload: unknown;
}

export interface StopOptions {
  /** How long to wait for running handlers before aborting them. Default 10 000. */
  readonly graceMs?: number;
}

/** A job queue over the definitions `D`; a definition outside `D` does not compile. */
export interface JobQueue<D extends AnyJobDefinition = AnyJobDefinition> {
  /** Creates or migrates pg-boss's schema and creates every job's queue and dead-letter queue. */
  start(): Promise<void>;
  /** Validates and enqueues; resolves to the job id, or null when a singleton rule dropped it. */
  send<J extends D>(def: J, payload: JobInput<J>, options?: SendOptions): Promise<string | null>;
  /** Starts workers for the job's queue (or a tenant's queue of it). */
  work<J extends D>(def: J, handler: JobHandler<JobPayload<J>>, options?: WorkOptions): Promise<WorkerHandle>;
  /** Registers (or replaces) the job's cron schedule; pg-boss evaluates cron once a minute at most. */
  schedule<J extends D>(def: J, cron: string, payload: JobInput<J>, options?: ScheduleOptions): Promise<void>;
  unschedule(def: D, options?: QueueScope): Promise<void>;
  /** Every registered schedule in this queue's schema. */
  schedules(): Promise<ScheduleInfo[]>;
  stats(def: D, options?: QueueScope): Promise<JobStats>;
  /**
   * Pauses the job's queue (or a tenant's queue of it) in every process on this database: workers stop
   * fetching (at once here, within the polling interval elsewhere), sends still enqueue, and jobs
   * already running finish. The flag is durable: it outlives restarts until `resume`. Idempotent.
   */
  pause(def: D, options?: QueueScope): Promise<void>;
  /** Lets the queue's workers fetch again (this process's at once). Idempotent. */
  resume(def: D, options?: QueueScope): Promise<void>;
  isPaused(def: D, options?: QueueScope): Promise<boolean>;
  /** Every queue in this queue's schema (registered here or not), with counts by state and the pause flag. */
  queues(): Promise<QueueInfo[]>;
  /** Oldest first, at most `limit` (default 100). Empty for jobs defined with `deadLetter: false`. */
  deadLetters(def: D, options?: QueueScope & { readonly limit?: number }): Promise<DeadLetter[]>;
  /** Throws unless the queue is running and its database answers (for /readyz). */
  ping(): Promise<void>;
  /**
   * Stops fetching, waits up to `graceMs` for running handlers, aborts the rest (their attempts
   * fail and are retried later), stops pg-boss and waits for its last statements.
   */
  stop(options?: StopOptions): Promise<void>;
}
