export interface BackoffPolicy {
  /** Delay before the first retry (default 500 ms). */
  readonly initialMs: number;
  /** Upper bound of any delay (default 30 s). */
  readonly maxMs: number;
  readonly multiplier: number;
  /** Fraction of the delay drawn at random, ± (default 0.2): spreads retries of many items apart. */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, multiplier: 2, jitter: 0.2 };

/** Delay before retry number `retry` (1 = first retry): exponential, capped, with jitter. */
export function backoffDelay(policy: BackoffPolicy, retry: number, random = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** Math.max(0, retry - 1));
  const spread = base * policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.min(policy.maxMs, Math.round(base + spread)));
}
