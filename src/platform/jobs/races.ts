import type { Logger } from "pino";
import { Sleeper } from "./timing.js";

/**
 * Several core processes may start together on one PostgreSQL, and any of them may be first to use
 * a tenant's queue. pg-boss 10 does not fully serialise those creations:
 * - two `createQueue()` calls for the same new queue can deadlock (one inserts the queue row, the
 *   other waits on it while the first adds a foreign key to the queue table) — SQLSTATE 40P01;
 * - two schema installs can both pass pg-boss's "not installed" check; the second waits on pg-boss's
 *   advisory lock and then may still try to create what the first made (a catalogue entry cached
 *   before the wait) — unique or duplicate-object errors.
 * Each of these means "someone else just created it": retrying finds it there.
 */
const CONCURRENT_CREATION = new Set([
  "40P01", // deadlock_detected
  "23505", // unique_violation (on a catalogue index)
  "42P06", // duplicate_schema
  "42P07", // duplicate_table
  "42710", // duplicate_object
]);

export function isConcurrentCreation(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && CONCURRENT_CREATION.has(code);
}

/** Runs `fn`, retrying (up to `attempts` in all, with a short jittered pause) on concurrent-creation errors. */
export async function retryConcurrentCreation<T>(
  what: string,
  logger: Logger,
  fn: () => Promise<T>,
  attempts = 5,
): Promise<T> {
  const sleeper = new Sleeper();
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isConcurrentCreation(err)) throw err;
      logger.debug({ err, attempt, what }, "concurrent creation, retrying");
      await sleeper.sleep(20 + Math.random() * 80 * attempt);
    }
  }
}
