/**
 * Bounded waiting. Every timer created here is cleared when the wait ends, so a stopped job queue
 * leaves nothing behind that would keep the process alive.
 */

/** A sleep that `wake()` ends early; a wake while awake makes the next sleep return at once. */
export class Sleeper {
  #timer: NodeJS.Timeout | undefined;
  #resolve: (() => void) | undefined;
  #woken = false;

  sleep(ms: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#timer = setTimeout(() => this.#end(), ms);
    });
  }

  wake(): void {
    if (this.#resolve === undefined) this.#woken = true;
    this.#end();
  }

  #end(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const resolve = this.#resolve;
    this.#resolve = undefined;
    resolve?.();
  }
}

/** Resolves true when `promise` settles within `ms`, false otherwise. Never rejects. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const sleeper = new Sleeper();
  let settled = false;
  const watched = promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await Promise.race([watched, sleeper.sleep(Math.max(0, ms))]);
  sleeper.wake(); // clears the timer when the promise won
  return settled;
}

/** Polls `done()` every `stepMs` (after at least one tick) until it is true or `ms` pass. */
export async function pollUntil(done: () => boolean, ms: number, stepMs = 10): Promise<boolean> {
  const deadline = Date.now() + ms;
  const sleeper = new Sleeper();
  do {
    await sleeper.sleep(stepMs);
    if (done()) return true;
  } while (Date.now() < deadline);
  return false;
}

/**
 * Races `work` against `signal`: rejects with the signal's reason as soon as it aborts. The work keeps
 * running (it cannot be killed) but its eventual rejection is observed, so it is never unhandled.
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
