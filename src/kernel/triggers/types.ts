/**
 * Triggers (AshOban's idea, on Sonde's job queue).
 *
 * Terminology:
 * - trigger: "every <cron>, run <action> on each row of <resource> that matches <where>", declared
 *   once with `defineTrigger` and verified against the kernel at boot (`verifyTriggers`).
 * - scan: the cron-scheduled job `trigger.scan.<name>`. It visits every tenant, selects the primary
 *   keys of matching rows page by page (keyset: `pk > last order by pk limit batchSize`) in the
 *   tenant's row-level-security scope, and enqueues one run job per row on the tenant's queue.
 * - run: the job `trigger.run.<name>` on `trigger.run.<name>/<tenant>`, one per row. Its worker
 *   re-reads the row under `FOR UPDATE SKIP LOCKED` in the same tenant scope and, when the row still
 *   matches, runs the action through the kernel as the system actor `trigger:<name>`.
 * - attempt: one delivery of a run job. A failing action is retried until `maxAttempts`; the last
 *   failing attempt first runs `onError` on the row, then the job fails into its dead letter.
 */
import type { Filter } from "../filter.js";
import type { ResourceDeclaration } from "../resource/define.js";

export interface TriggerSpec {
  /**
   * snake_case, unique among triggers. Names the jobs (`trigger.scan.<name>`, `trigger.run.<name>`)
   * and the actor the action runs as (`system:trigger:<name>` in history and audit).
   */
  readonly name: string;
  /** A tenant-scoped resource registered with the kernel. */
  readonly resource: ResourceDeclaration;
  /** An update or destroy action of the resource, run with the row's id and no input. */
  readonly action: string;
  /**
   * The rows to act on: a filter over the resource's attributes and calculations (sensitive ones
   * excluded, no actor references: there is no user). The read action's policies for the system actor
   * narrow it further. Checked again, under the row lock, just before the action runs.
   */
  readonly where: Filter;
  /** When to scan: five-field cron (minute hour day-of-month month day-of-week), UTC. */
  readonly cron: string;
  /** Attempts per row before the job fails. Default 3 (1–100). */
  readonly maxAttempts?: number;
  /** Seconds between attempts. Default 0. */
  readonly retryDelaySeconds?: number;
  /**
   * An update action run on the row, as the same system actor, after the last failed attempt (before
   * the job fails). Declare one that moves the row out of `where`: otherwise every scan finds the row
   * again and the trigger retries it forever, `maxAttempts` at a time.
   */
  readonly onError?: string;
  /** Rows per scan page, and so per scan transaction. Default 100 (1–1000). */
  readonly batchSize?: number;
  /** The read action whose policies narrow the scan and the re-check. Default the resource's `read`. */
  readonly readAction?: string;
  readonly description?: string;
}

export const TRIGGER_DEFAULTS = { maxAttempts: 3, retryDelaySeconds: 0, batchSize: 100 } as const;

/**
 * Declares a trigger. Like `defineResource`, nothing is checked here but types: the declaration is
 * verified as a whole, against the kernel it runs on, at boot (`verifyTriggers`, which
 * `createTriggerRunner` and `triggerJobDefinitions` call), so that a bad one fails start-up naming it.
 */
export function defineTrigger(spec: TriggerSpec): TriggerSpec {
  return Object.freeze({ ...spec });
}
