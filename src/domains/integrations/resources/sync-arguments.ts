import { z } from "zod";

/** Arguments of the system's sync actions on a source (progress, finish, fail); never a user's input. */

const count = z.number().int().nonnegative();

/** How far a run got: devices read from the source, and what the ingest made of them. */
export const runCounts = z.object({
  seen: count,
  total: count.nullable().optional(),
  created: count,
  updated: count,
  merged: count,
  rejected: count,
});
export type RunCounts = z.infer<typeof runCounts>;

export const progressArguments = runCounts.extend({ run_id: z.uuid() });

export const finishArguments = progressArguments;

/** Both optional: the stale-sync trigger fails a source with no run or message of its own. */
export const failArguments = runCounts.partial().extend({
  run_id: z.uuid().optional(),
  error: z.string().min(1).max(2000).optional(),
});
