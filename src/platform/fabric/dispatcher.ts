import type { Logger } from "pino";
import { isSondeError } from "../../lib/errors.js";
import type { Bus } from "../bus/types.js";
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";
import {
  type DispatchReply,
  dispatchReplySchema,
  dispatchSubject,
  type WorkItem,
  workItemSchema,
} from "./contract.js";

/**
 * Terminology:
 * - dispatch: one request on the partition's dispatch subject; one poller of the queue group answers.
 * - refused: a poller answered accepted:false (draining, maintenance, busy, no_agent…). Another member
 *   of the group may take it, so the dispatcher asks again at once, a few times.
 * - undispatched: nobody took the work — no poller subscribed (SONDE_BUS_NO_RESPONDERS), no answer in
 *   time, or every try refused. The work is kept, reported through onUndispatched, and retried with
 *   exponential backoff and jitter; it keeps its id (and attempt), so pollers and the results stream
 *   deduplicate it. Nothing is dropped: pending() lists it until a poller accepts it or stop() hands
 *   it back.
 */
export type UndispatchedReason = "no_responders" | "timeout" | "refused" | "bus_error";

export interface PendingWork {
  readonly work: WorkItem;
  readonly reason: UndispatchedReason;
  /** What the last refusing poller said, when the reason is `refused`. */
  readonly detail: string;
  /** Dispatch rounds tried so far. */
  readonly rounds: number;
  readonly nextAttemptAt: Date;
}

export type DispatchOutcome =
  | { readonly status: "accepted"; readonly pollerId: string }
  | { readonly status: "undispatched"; readonly reason: UndispatchedReason; readonly detail: string };

export interface DispatcherOptions {
  readonly logger: Logger;
  /** Per request (default 2 s). */
  readonly requestTimeoutMs?: number;
  /** Extra immediate tries after a refusal, within one round (default 3). */
  readonly refusalRetries?: number;
  readonly backoff?: Partial<BackoffPolicy>;
  /** Called each time a round ends undispatched (the first and every retry that fails again). */
  readonly onUndispatched?: (work: WorkItem, reason: UndispatchedReason, detail: string) => void;
  /** Called when a poller accepted work, including work that had been pending. */
  readonly onAccepted?: (work: WorkItem, pollerId: string) => void;
}

interface Pending {
  work: WorkItem;
  reason: UndispatchedReason;
  detail: string;
  rounds: number;
  nextAttemptAt: number;
  timer: NodeJS.Timeout | undefined;
}

/** Core's side of dispatch. It needs no database: callers persist pending() if they must. */
export class Dispatcher {
  readonly #pending = new Map<string, Pending>();
  readonly #backoff: BackoffPolicy;
  #stopped = false;

  constructor(
    private readonly bus: Bus,
    private readonly opts: DispatcherOptions,
  ) {
    this.#backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
  }

  /**
   * Offers the work to its partition's pollers. Resolves `accepted` once a poller took it, or
   * `undispatched` after which the dispatcher keeps retrying it in the background. Work whose id is
   * already pending is not dispatched twice: the call reports the pending state.
   */
  async dispatch(input: WorkItem): Promise<DispatchOutcome> {
    const work = workItemSchema.parse(input);
    const pending = this.#pending.get(work.id);
    if (pending !== undefined)
      return { status: "undispatched", reason: pending.reason, detail: pending.detail };
    return this.#round(work, 0);
  }

  pending(): PendingWork[] {
    return [...this.#pending.values()].map((p) => ({
      work: p.work,
      reason: p.reason,
      detail: p.detail,
      rounds: p.rounds,
      nextAttemptAt: new Date(p.nextAttemptAt),
    }));
  }

  /** Stops retrying and returns the work still pending, so the caller can keep it. */
  stop(): PendingWork[] {
    this.#stopped = true;
    const left = this.pending();
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
    return left;
  }

  async #round(work: WorkItem, previousRounds: number): Promise<DispatchOutcome> {
    const outcome = await this.#offer(work);
    const rounds = previousRounds + 1;
    if (outcome.status === "accepted") {
      this.#pending.delete(work.id);
      this.opts.onAccepted?.(work, outcome.pollerId);
      return outcome;
    }
    if (this.#stopped) return outcome;
    const delay = backoffDelay(this.#backoff, rounds);
    const entry: Pending = {
      work,
      reason: outcome.reason,
      detail: outcome.detail,
      rounds,
      nextAttemptAt: Date.now() + delay,
      timer: undefined,
    };
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      void this.#round(work, rounds).catch((err: unknown) =>
        this.opts.logger.error({ err, work: work.id }, "dispatch retry failed"),
      );
    }, delay);
    entry.timer.unref();
    this.#pending.set(work.id, entry);
    this.opts.logger.debug({ work: work.id, reason: outcome.reason, rounds, delay }, "work undispatched");
    this.opts.onUndispatched?.(work, outcome.reason, outcome.detail);
    return outcome;
  }

  /** One round: a request, repeated at once while pollers refuse. */
  async #offer(work: WorkItem): Promise<DispatchOutcome> {
    const subject = dispatchSubject(work.tenant, work.partition);
    const payload = JSON.stringify(work);
    const tries = 1 + (this.opts.refusalRetries ?? 3);
    let last: Extract<DispatchReply, { accepted: false }> | undefined;
    for (let i = 0; i < tries; i++) {
      let reply: DispatchReply;
      try {
        const msg = await this.bus.request(subject, payload, {
          timeoutMs: this.opts.requestTimeoutMs ?? 2_000,
        });
        const parsed = dispatchReplySchema.safeParse(msg.json());
        if (!parsed.success) {
          this.opts.logger.warn({ work: work.id }, "a poller sent an invalid dispatch reply");
          continue;
        }
        reply = parsed.data;
      } catch (err) {
        if (isSondeError(err, "SONDE_BUS_NO_RESPONDERS")) {
          return { status: "undispatched", reason: "no_responders", detail: "no poller is subscribed" };
        }
        if (isSondeError(err, "SONDE_BUS_TIMEOUT")) {
          return { status: "undispatched", reason: "timeout", detail: "no poller answered in time" };
        }
        const detail = err instanceof Error ? err.message : String(err);
        return { status: "undispatched", reason: "bus_error", detail };
      }
      if (reply.accepted) return { status: "accepted", pollerId: reply.poller_id };
      last = reply;
      // Invalid work stays invalid whichever poller looks at it.
      if (reply.reason === "invalid" || reply.reason === "wrong_partition") break;
    }
    const detail =
      last === undefined ? "invalid replies" : `${last.poller_id}: ${last.reason}: ${last.message}`;
    return { status: "undispatched", reason: "refused", detail };
  }
}
