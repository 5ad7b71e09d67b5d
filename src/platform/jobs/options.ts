import type PgBoss from "pg-boss";
import { SondeError } from "../../lib/errors.js";
import type { AnyJobDefinition } from "./registry.js";
import type { SendOptions } from "./types.js";

/** Checks of caller-supplied options; a bad one is the caller's mistake (SONDE_VALIDATION_FAILED). */

export function badOption(field: string, message: string): SondeError {
  return new SondeError("SONDE_VALIDATION_FAILED", `${field} ${message}`, { meta: { field } });
}

export function checkInteger(field: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
    throw badOption(field, `must be an integer from ${min} to ${max}`);
  }
}

export function checkPollingInterval(field: string, seconds: number | undefined): void {
  if (seconds !== undefined && !(seconds >= 0.5 && seconds <= 3600)) {
    throw badOption(field, "must be from 0.5 to 3600 seconds");
  }
}

/** Sonde's send options as pg-boss's, checked. */
export function toSendOptions(def: AnyJobDefinition, opts: SendOptions): PgBoss.SendOptions {
  // pg-boss checks options with `'key' in options`, so absent options must be absent, not undefined.
  const out: PgBoss.SendOptions = { retentionSeconds: def.retentionSeconds };
  if (opts.priority !== undefined) {
    checkInteger("priority", opts.priority, -1_000_000, 1_000_000);
    out.priority = opts.priority;
  }
  if (opts.singletonSeconds !== undefined) {
    checkInteger("singletonSeconds", opts.singletonSeconds, 1, 12 * 60 * 60);
    out.singletonSeconds = opts.singletonSeconds;
  }
  if (opts.singletonKey !== undefined) {
    if (opts.singletonKey === "") throw badOption("singletonKey", "must not be empty");
    if (def.policy === "standard" && opts.singletonSeconds === undefined) {
      // pg-boss would accept and ignore it: every send would create a job.
      throw badOption("singletonKey", `needs singletonSeconds on job "${def.name}" (policy "standard")`);
    }
    out.singletonKey = opts.singletonKey;
  }
  if (opts.startAfter !== undefined) {
    if (opts.startAfter instanceof Date) {
      if (Number.isNaN(opts.startAfter.getTime())) throw badOption("startAfter", "is an invalid date");
      out.startAfter = opts.startAfter;
    } else {
      if (!Number.isFinite(opts.startAfter) || opts.startAfter < 0) {
        throw badOption("startAfter", "must be a date or a number of seconds >= 0");
      }
      out.startAfter = opts.startAfter;
    }
  }
  return out;
}
