/**
 * How integration clients talk to a remote API: per-attempt timeout, a bounded number of attempts,
 * exponential backoff with jitter between them, and a cap on how long a server's `Retry-After` may
 * make them wait. Bounded everywhere, so that a sync cannot hang on a dead or throttling source.
 */
export interface HttpPolicy {
  /** One attempt, from sending the request to reading the whole body. */
  readonly timeoutMs: number;
  /** Attempts per request, the first included (>= 1). */
  readonly maxAttempts: number;
  /** The first retry's delay; each further retry doubles it (with up to 50% jitter). */
  readonly baseDelayMs: number;
  /** No wait between attempts is longer, `Retry-After` included. */
  readonly maxDelayMs: number;
}

export const DEFAULT_HTTP_POLICY: HttpPolicy = {
  timeoutMs: 30_000,
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
};

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when
 * absent or unreadable, so that backoff decides instead.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The wait before attempt `attempt + 1` (attempt counts from 1). */
export function retryDelayMs(policy: HttpPolicy, attempt: number, retryAfter: number | undefined): number {
  if (retryAfter !== undefined) return Math.min(retryAfter, policy.maxDelayMs);
  const exponential = policy.baseDelayMs * 2 ** (attempt - 1);
  const jittered = exponential * (1 + Math.random() / 2);
  return Math.min(Math.round(jittered), policy.maxDelayMs);
}
