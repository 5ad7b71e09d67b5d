import { z } from "zod";
import { cronProblem, nextCronTime } from "../../kernel/triggers/cron.js";

/**
 * A source's schedule: a five-field cron expression (UTC), checked with the triggers' own parser, and
 * refused when it can never fire (`0 0 31 2 *`), since the source would then never be due.
 */
export const scheduleSchema = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const problem = cronProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: `not a cron expression: ${problem}` });
    else if (nextCronTime(value, new Date()) === undefined) {
      ctx.addIssue({ code: "custom", message: "never fires" });
    }
  })
  .nullable();

/** When a source with this schedule is next due, counted from `from`; null without a schedule. */
export function nextSyncAt(schedule: unknown, from: Date = new Date()): Date | null {
  return typeof schedule === "string" ? (nextCronTime(schedule, from) ?? null) : null;
}
