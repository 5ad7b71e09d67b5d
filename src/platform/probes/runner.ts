import { SondeError } from "../../lib/errors.js";
import { CheckAbort } from "./context.js";
import {
  type Check,
  type CheckKind,
  elapsedNs,
  errorText,
  type Probe,
  type ProbeResult,
  type ProbeSet,
} from "./types.js";

/**
 * Runs checks with a bound on how many are in flight at once (across every caller of one runner:
 * concurrent batches share it) and a timeout per check. A check that fails, times out, or whose
 * probe throws yields a result with `available: false`; `run` itself never rejects for a check.
 */
export interface CheckRunnerOptions {
  readonly probes: ProbeSet;
  /** Checks in flight at once. */
  readonly concurrency: number;
  /** Timeout of a check that names none. */
  readonly defaultTimeoutMs: number;
}

export interface ScheduledCheck {
  readonly check: Check;
  readonly timeoutMs?: number;
}

export interface CheckRunner {
  run(checks: readonly ScheduledCheck[]): Promise<ProbeResult[]>;
  runOne(check: ScheduledCheck): Promise<ProbeResult>;
  /** Whether a probe for this kind is installed. */
  supports(kind: CheckKind): boolean;
}

export function createCheckRunner(options: CheckRunnerOptions): CheckRunner {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new SondeError(
      "SONDE_CONFIG_INVALID",
      `check concurrency must be a positive integer, not ${options.concurrency}`,
    );
  }
  let active = 0;
  const waiting: Array<() => void> = [];

  const release = () => {
    const next = waiting.shift();
    if (next === undefined) active--;
    else next();
  };
  const acquire = (): Promise<void> | undefined => {
    if (active < options.concurrency) {
      active++;
      return undefined;
    }
    return new Promise((resolve) => waiting.push(resolve));
  };

  const execute = async (scheduled: ScheduledCheck): Promise<ProbeResult> => {
    const probe = options.probes[scheduled.check.kind] as Probe<Check> | undefined;
    const start = process.hrtime.bigint();
    if (probe === undefined) {
      const error = `no probe for ${scheduled.check.kind} checks in this agent`;
      return { available: false, responseTimeNs: 0, message: { available: false, error }, error };
    }
    const context = new CheckAbort();
    const timeoutMs = scheduled.timeoutMs ?? options.defaultTimeoutMs;
    const timer = setTimeout(() => context.abort(`timed out after ${timeoutMs} ms`), timeoutMs);
    try {
      return await probe(scheduled.check, context);
    } catch (err) {
      // A probe bug, not a check failure; still a result so that one bad check cannot sink a batch.
      const error = `probe failed: ${errorText(err)}`;
      return {
        available: false,
        responseTimeNs: elapsedNs(start),
        message: { available: false, error },
        error,
      };
    } finally {
      clearTimeout(timer);
    }
  };

  const runOne = async (scheduled: ScheduledCheck): Promise<ProbeResult> => {
    const wait = acquire();
    if (wait !== undefined) await wait;
    try {
      return await execute(scheduled);
    } finally {
      release();
    }
  };

  return {
    runOne,
    // A pool of workers per batch rather than one pending promise per check: a batch of 10,000 then
    // holds `concurrency` promises, not 10,000, and a freed slot goes straight to the next check.
    async run(checks) {
      const results = new Array<ProbeResult>(checks.length);
      let next = 0;
      const worker = async () => {
        while (next < checks.length) {
          const index = next++;
          results[index] = await runOne(checks[index] as ScheduledCheck);
        }
      };
      await Promise.all(Array.from({ length: Math.min(options.concurrency, checks.length) }, worker));
      return results;
    },
    supports: (kind) => options.probes[kind] !== undefined,
  };
}
