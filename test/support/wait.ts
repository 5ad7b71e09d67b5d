import { setTimeout as sleep } from "node:timers/promises";

/**
 * Polls until `predicate` holds, failing after `timeoutMs` with `what` in the message. Tests wait for
 * the thing they expect instead of sleeping a fixed time and hoping.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what = "condition",
  intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export { sleep };
