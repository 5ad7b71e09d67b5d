import { z } from "zod";
import { SondeError } from "../../lib/errors.js";
import { defineJob, type JobDefinition } from "../../platform/jobs/index.js";
import { checkTriggerSpec } from "./verify.js";
import { TRIGGER_DEFAULTS, type TriggerSpec } from "./types.js";

/**
 * The two jobs of each trigger. One pair per trigger (rather than one generic job with the trigger
 * in the payload) so that each trigger has its own retry limit, its own queues to pause and inspect,
 * and its own dead letter.
 */

const scanPayload = z.object({});
// A primary key as text; the worker checks it against the key column's type before any query.
const runPayload = z.object({ id: z.string().min(1).max(200) });

export type TriggerScanJob = JobDefinition<string, typeof scanPayload>;
export type TriggerRunJob = JobDefinition<string, typeof runPayload>;
export type TriggerJobDefinition = TriggerScanJob | TriggerRunJob;

export interface TriggerJobs {
  /** Cron-scheduled, not per tenant; at most one waiting (`short`), never retried: the next tick is the retry. */
  readonly scan: TriggerScanJob;
  /** Per tenant and row; `short` with the row id as key: one waiting job per row. */
  readonly run: TriggerRunJob;
}

// The queue accepts only the very definition objects it was created with, so the runner and the
// caller that builds the queue must get the same ones: one pair per declaration object.
const byTrigger = new WeakMap<TriggerSpec, TriggerJobs>();

export function triggerJobs(spec: TriggerSpec): TriggerJobs {
  const known = byTrigger.get(spec);
  if (known !== undefined) return known;
  checkTriggerSpec(spec);
  const jobs: TriggerJobs = {
    scan: defineJob(`trigger.scan.${spec.name}`, {
      payload: scanPayload,
      retryLimit: 0,
      policy: "short",
      deadLetter: false,
    }),
    run: defineJob(`trigger.run.${spec.name}`, {
      payload: runPayload,
      retryLimit: (spec.maxAttempts ?? TRIGGER_DEFAULTS.maxAttempts) - 1,
      retryDelaySeconds: spec.retryDelaySeconds ?? TRIGGER_DEFAULTS.retryDelaySeconds,
      policy: "short",
    }),
  };
  byTrigger.set(spec, jobs);
  return jobs;
}

/**
 * Every job the triggers need, for the job queue's `definitions` (which are fixed when the queue is
 * created, before the runner exists). Checks names and cron expressions on the way.
 */
export function triggerJobDefinitions(triggers: readonly TriggerSpec[]): TriggerJobDefinition[] {
  const names = new Set<string>();
  return triggers.flatMap((spec) => {
    if (names.has(spec.name)) {
      throw new SondeError("SONDE_CONFIG_INVALID", `trigger ${spec.name}: is declared twice`, {
        meta: { trigger: spec.name },
      });
    }
    names.add(spec.name);
    const jobs = triggerJobs(spec);
    return [jobs.scan, jobs.run];
  });
}
