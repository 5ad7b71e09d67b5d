import { isSondeError } from "../../lib/errors.js";
import type { Kernel, Rec } from "../../kernel/kernel.js";
import type { ActionContext } from "../../kernel/pipeline/authorize.js";
import { checkerResource } from "./resources/checker.js";

export interface CheckOutcome {
  readonly success: boolean;
  readonly reason?: string;
  /** The run's due time (epoch ms); a result for a due time already counted changes nothing. */
  readonly dueMs?: number;
  readonly responseTimeMs?: number | null;
  /** What the agent answered (its StatusResponse message), kept as the checker's last result. */
  readonly message?: unknown;
}

/**
 * Counts one result of a checker (`record_outcome`), then flips it: active → failing once the
 * streak reaches its `failure_threshold`, failing → active on a success. Two actions, because a
 * transition's target is fixed; the flip is derived from the counted record, so running it twice
 * (two cores, a retry) does nothing more — a transition from the wrong state is refused and ignored.
 */
export async function recordCheckerOutcome(
  kernel: Kernel,
  ctx: ActionContext,
  id: string,
  outcome: CheckOutcome,
): Promise<Rec> {
  const resource = kernel.resource(checkerResource.name);
  const counted = await kernel.runAction(resource, "record_outcome", ctx, {
    id,
    arguments: {
      success: outcome.success,
      ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
      ...(outcome.dueMs !== undefined ? { due_ms: outcome.dueMs } : {}),
      ...(outcome.responseTimeMs !== undefined ? { response_time_ms: outcome.responseTimeMs } : {}),
      ...(outcome.message !== undefined ? { message: outcome.message } : {}),
    },
  });
  if (counted === undefined) return kernel.get(resource, ctx, id);
  const failing =
    counted.status === "active" && Number(counted.consecutive_failures) >= Number(counted.failure_threshold);
  const passing = counted.status === "failing" && outcome.success;
  const flip = failing ? "mark_failing" : passing ? "mark_passing" : undefined;
  if (flip === undefined) return counted;
  try {
    return (await kernel.runAction(resource, flip, ctx, { id })) ?? counted;
  } catch (err) {
    if (isSondeError(err, "SONDE_INVALID_TRANSITION")) return kernel.get(resource, ctx, id);
    throw err;
  }
}
