import type { Logger } from "pino";
import { systemActor } from "../../../kernel/actor.js";
import type { Kernel } from "../../../kernel/kernel.js";
import { isSondeError } from "../../../lib/errors.js";
import { subjectPattern } from "../../../platform/bus/subjects.js";
import type { Bus, Consumer } from "../../../platform/bus/types.js";
import type { Orm } from "../../../platform/db/types.js";
import type { WorkItem, WorkResult } from "../../../platform/fabric/contract.js";
import { consumeResults } from "../../../platform/fabric/results.js";
import { recordCheckerOutcome } from "../checker-outcome.js";
import { ActiveTenants } from "../registry/tenants.js";
import { parseWorkId } from "./check-work.js";

export const RESULTS_ACTOR = systemActor("check-results");
export const RESULTS_DURABLE = "core-check-results";

export interface CheckResultsOptions {
  readonly kernel: Kernel;
  readonly orm: Orm;
  readonly bus: Bus;
  readonly logger: Logger;
  /** Core instances share it, and so the results (default RESULTS_DURABLE). */
  readonly durable?: string;
  /** Which results to take (default every tenant's, `sonde.*.results.>`). */
  readonly filterSubject?: string;
  /** Results applied at once by this instance, each in its own transaction (default 4). */
  readonly parallel?: number;
  /** Told of every applied result, so the scheduler stops watching the run. */
  readonly onSettled?: (workId: string) => void;
}

/** What an unavailable result says, in one line, for the checker's `reason`. */
function reasonOf(result: WorkResult): string {
  if (result.error !== null) return result.error;
  const message = result.message;
  if (typeof message === "object" && message !== null && "error" in message) {
    return String((message as { error: unknown }).error);
  }
  return "unavailable";
}

/**
 * Applies check results to their checkers, in the results' tenants: every core instance consumes
 * the shared durable, so results keep flowing while the scheduling leader changes. A result for an
 * unknown or suspended tenant, a deleted checker, or work that is not a checker's is acknowledged
 * and ignored; a database failure naks it for redelivery. Applying a result twice (redelivery, a run
 * that reported late after being dispatched again) changes nothing more: the checker keeps the due
 * time of the last result it counted.
 */
export class CheckResults {
  readonly #tenants: ActiveTenants;
  readonly #consumers: Consumer[] = [];

  constructor(private readonly opts: CheckResultsOptions) {
    this.#tenants = new ActiveTenants(opts.orm);
  }

  async start(): Promise<void> {
    // Each consume() applies one result at a time; several share the durable's results.
    for (let i = 0; i < (this.opts.parallel ?? 4); i++) {
      this.#consumers.push(
        await consumeResults(
          this.opts.bus,
          this.opts.durable ?? RESULTS_DURABLE,
          (result) => this.apply(result),
          {
            logger: this.opts.logger,
            filterSubject: this.opts.filterSubject ?? subjectPattern("*", "results", ">"),
            // Results answer work a core of this deployment dispatched, and that core opened this
            // durable before its scheduler started: what the stream held before is another deployment's.
            deliverNew: true,
            prefetch: 16,
          },
        ),
      );
    }
  }

  async apply(result: WorkResult): Promise<void> {
    const run = parseWorkId(result.work_id);
    if (run === undefined) return;
    const tenantId = await this.#tenants.idOf(result.tenant);
    if (tenantId === undefined) {
      this.opts.logger.debug(
        { tenant: result.tenant, work: result.work_id },
        "result for an inactive tenant",
      );
      return;
    }
    const success = result.available && result.error === null;
    await this.#record(tenantId, run.checkerId, {
      success,
      ...(success ? {} : { reason: reasonOf(result) }),
      dueMs: run.dueMs,
      responseTimeMs: result.response_time_ns / 1e6,
      message: result.message ?? null,
    });
    this.opts.onSettled?.(result.work_id);
  }

  /** A run that never reported after every attempt counts as a failure of its checker. */
  async lost(tenant: string, work: WorkItem): Promise<void> {
    const run = parseWorkId(work.id);
    const tenantId = await this.#tenants.idOf(tenant);
    if (run === undefined || tenantId === undefined) return;
    await this.#record(tenantId, run.checkerId, {
      success: false,
      reason: `no result after ${work.attempt} attempts (the poller or agent went away)`,
      dueMs: run.dueMs,
      responseTimeMs: null,
      message: null,
    });
  }

  async #record(tenantId: string, checkerId: string, outcome: Parameters<typeof recordCheckerOutcome>[3]) {
    try {
      await recordCheckerOutcome(this.opts.kernel, { actor: RESULTS_ACTOR, tenantId }, checkerId, outcome);
    } catch (err) {
      // The checker was deleted meanwhile: nothing to count.
      if (isSondeError(err, "SONDE_NOT_FOUND")) return;
      throw err;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.#consumers.splice(0).map((c) => c.stop()));
  }
}
