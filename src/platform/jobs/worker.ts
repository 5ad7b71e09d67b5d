import type PgBoss from "pg-boss";
import type { Logger } from "pino";
import { isSondeError } from "../../lib/errors.js";
import { type AnyJobDefinition, type JobPayload, payloadOnReceipt } from "./registry.js";
import { raceAbort, Sleeper } from "./timing.js";
import type { JobContext, JobHandler } from "./types.js";

/**
 * One polling loop over one queue: fetch up to `batchSize` jobs, run them concurrently, record each
 * outcome, repeat (at once after a full batch, else after the polling interval).
 *
 * Why not pg-boss's `work()`: it completes and fails jobs without awaiting the writes, fails a whole
 * batch when one handler throws, and its `offWork()` leaves a one-second polling timer behind. Here
 * each job's outcome is awaited before the loop goes on, so `stop()` knows when the last write is
 * done; jobs in a batch succeed or fail on their own; and the only timer is a sleep `stop()` ends.
 * The SQL is still pg-boss's (`fetch`, `complete`, `fail`), so retries, backoff, expiry and dead
 * letters behave as pg-boss documents.
 */
export interface WorkerDeps<D extends AnyJobDefinition> {
  readonly boss: PgBoss;
  readonly def: D;
  readonly queue: string;
  readonly tenant: string | undefined;
  readonly handler: JobHandler<JobPayload<D>>;
  readonly batchSize: number;
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Aborted when `stop()` stops waiting for handlers; running attempts are then failed. */
  readonly shutdown: AbortSignal;
  /** Makes a job's current attempt its last (for payloads that can never succeed). */
  readonly forbidRetries: (queue: string, id: string) => Promise<void>;
  /** Whether the queue is paused (asked before every fetch). */
  readonly paused: (queue: string) => Promise<boolean>;
}

type Outcome =
  { readonly ok: true } | { readonly ok: false; readonly error: unknown; readonly retry: boolean };

class AttemptTimeoutError extends Error {
  constructor(seconds: number) {
    super(`the attempt exceeded its ${seconds}s expiry`);
    this.name = "AttemptTimeoutError";
  }
}

/** What pg-boss stores as a failed job's output: enough to diagnose, nothing a client would see. */
function errorOutput(error: unknown): Record<string, string> {
  if (error instanceof Error) {
    const out: Record<string, string> = { name: error.name, message: error.message };
    if (isSondeError(error)) out.code = error.code;
    return out;
  }
  return { name: "NonError", message: String(error) };
}

export class QueueWorker<D extends AnyJobDefinition> {
  readonly queue: string;
  readonly done: Promise<void>;
  readonly #deps: WorkerDeps<D>;
  readonly #sleeper = new Sleeper();
  #stopping = false;

  constructor(deps: WorkerDeps<D>) {
    this.#deps = deps;
    this.queue = deps.queue;
    this.done = this.#loop();
  }

  /** Polls now instead of at the end of the interval (a job was just sent to this queue). */
  wake(): void {
    this.#sleeper.wake();
  }

  /** Stops fetching; `done` resolves once the jobs already fetched are recorded. */
  stop(): void {
    this.#stopping = true;
    this.#sleeper.wake();
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      if (await this.#held()) {
        if (!this.#stopping) await this.#sleeper.sleep(this.#deps.intervalMs);
        continue;
      }
      const jobs = await this.#fetch();
      // Jobs fetched while stopping are run too: they are already marked active.
      await Promise.all(jobs.map((job) => this.#run(job)));
      if (jobs.length < this.#deps.batchSize && !this.#stopping) {
        await this.#sleeper.sleep(this.#deps.intervalMs);
      }
    }
  }

  /** Paused, or the flag cannot be read: a pause is a safety measure, so an unknown answer holds. */
  async #held(): Promise<boolean> {
    try {
      return await this.#deps.paused(this.#deps.queue);
    } catch (err) {
      this.#deps.logger.warn({ err, queue: this.#deps.queue }, "reading the queue's pause flag failed");
      return true;
    }
  }

  async #fetch(): Promise<PgBoss.JobWithMetadata<unknown>[]> {
    try {
      return await this.#deps.boss.fetch<unknown>(this.#deps.queue, {
        batchSize: this.#deps.batchSize,
        includeMetadata: true,
      });
    } catch (err) {
      this.#deps.logger.warn({ err, queue: this.#deps.queue }, "fetching jobs failed");
      return [];
    }
  }

  async #run(job: PgBoss.JobWithMetadata<unknown>): Promise<void> {
    const { def, handler, shutdown } = this.#deps;
    let payload: JobPayload<D>;
    try {
      payload = payloadOnReceipt(def, job.data);
    } catch (error) {
      // The payload will not become valid by retrying: fail now, into the dead letter.
      await this.#record(job, { ok: false, error, retry: false });
      return;
    }
    // pg-boss returns the interval as numeric text; fall back to the definition's value.
    const expireSeconds = Number(job.expireInSeconds) || def.expireInSeconds;
    const attempt = new AbortController();
    const expiry = setTimeout(
      () => attempt.abort(new AttemptTimeoutError(expireSeconds)),
      expireSeconds * 1000,
    );
    const onShutdown = () => attempt.abort(shutdown.reason);
    shutdown.addEventListener("abort", onShutdown, { once: true });
    if (shutdown.aborted) onShutdown();
    const ctx: JobContext = {
      id: job.id,
      queue: this.#deps.queue,
      tenant: this.#deps.tenant,
      attempt: job.retryCount + 1,
      retryCount: job.retryCount,
      retryLimit: job.retryLimit,
      signal: attempt.signal,
    };
    let outcome: Outcome;
    try {
      // `then` turns a handler that throws synchronously into a rejection.
      await raceAbort(
        Promise.resolve().then(() => handler(payload, ctx)),
        attempt.signal,
      );
      outcome = { ok: true };
    } catch (error) {
      outcome = { ok: false, error, retry: true };
    } finally {
      clearTimeout(expiry);
      shutdown.removeEventListener("abort", onShutdown);
    }
    await this.#record(job, outcome);
  }

  async #record(job: PgBoss.JobWithMetadata<unknown>, outcome: Outcome): Promise<void> {
    const { boss, queue, logger, def } = this.#deps;
    const fields = { job: def.name, queue, id: job.id, attempt: job.retryCount + 1 };
    try {
      if (outcome.ok) {
        await boss.complete(queue, job.id);
        return;
      }
      if (!outcome.retry) await this.#deps.forbidRetries(queue, job.id);
      await boss.fail(queue, job.id, errorOutput(outcome.error));
      const final = !outcome.retry || job.retryCount >= job.retryLimit;
      if (final) {
        logger.error(
          { ...fields, err: outcome.error, deadLetter: def.deadLetter },
          def.deadLetter
            ? "job failed permanently; payload kept in its dead-letter queue"
            : "job failed permanently",
        );
      } else {
        logger.warn({ ...fields, err: outcome.error }, "job attempt failed; it will be retried");
      }
    } catch (err) {
      // The job stays active; pg-boss's maintenance fails it once it expires, and it is retried then.
      logger.error({ ...fields, err }, "could not record the job's outcome");
    }
  }
}
