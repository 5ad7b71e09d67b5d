import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";

export interface RetryOptions {
  readonly attempts: number;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly logger?: Logger;
  readonly what: string;
}

/**
 * Calls `fn` until it succeeds or `attempts` are used up, doubling the delay each time (with jitter so
 * that many instances restarting together do not hammer the database in lock-step).
 * Returns the last error when every attempt failed.
 */
export async function retryWithBackoff<T>(
  fn: () => Promise<T>,
  options: RetryOptions,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown; attempts: number }> {
  const initial = options.initialDelayMs ?? 250;
  const max = options.maxDelayMs ?? 5_000;
  let lastError: unknown;
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    try {
      return { ok: true, value: await fn() };
    } catch (err) {
      lastError = err;
      if (attempt === options.attempts) break;
      const delay = Math.min(max, initial * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
      options.logger?.warn(
        { attempt, of: options.attempts, retryInMs: Math.round(delay), reason: errorReason(err) },
        `${options.what} failed, retrying`,
      );
      await sleep(delay);
    }
  }
  return { ok: false, error: lastError, attempts: options.attempts };
}

/** A short, secret-free reason for an error: its code and message, never a connection string. */
export function errorReason(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return errorReason(err.errors[0]);
  if (err instanceof Error) {
    const code = "code" in err && typeof err.code === "string" ? `${err.code}: ` : "";
    return `${code}${err.message}`.replace(/postgres(ql)?:\/\/[^\s]+/g, "<database url>");
  }
  return String(err);
}
