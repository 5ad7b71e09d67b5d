import type { Logger } from "pino";

/**
 * Runs message handlers so that a failure is logged instead of breaking delivery, and remembers the
 * ones still running so that close() can wait for them.
 */
export class InFlight {
  readonly #running = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  get size(): number {
    return this.#running.size;
  }

  /** Starts `fn` now; the returned promise never rejects. */
  run(fn: () => unknown, context: Record<string, unknown>, onError?: (err: unknown) => void): Promise<void> {
    const fail = (err: unknown) => {
      this.logger.error({ err, ...context }, "bus handler failed");
      try {
        onError?.(err);
      } catch (cleanupErr) {
        this.logger.error({ err: cleanupErr, ...context }, "bus handler cleanup failed");
      }
    };
    let result: unknown;
    try {
      result = fn();
    } catch (err) {
      fail(err);
      return Promise.resolve();
    }
    if (!(result instanceof Promise)) return Promise.resolve();
    const p: Promise<void> = result.then(() => undefined, fail).finally(() => this.#running.delete(p));
    this.#running.add(p);
    return p;
  }

  /** Waits until nothing runs or the time is up; true when everything finished. */
  async settle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#running.size > 0) {
      const ok = await settleWithin(Promise.allSettled([...this.#running]), deadline - Date.now());
      if (!ok) return false;
    }
    return true;
  }
}

/** Resolves true when `work` settles within `ms`, false otherwise; leaves no timer behind. */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  if (ms <= 0) return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
