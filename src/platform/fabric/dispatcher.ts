import type { Logger } from "pino";
import { isSondeError } from "../../lib/errors.js";
import type { Bus } from "../bus/types.js";
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";
import {
  dispatchBatchReplySchema,
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

/** Items in one dispatch request at most. */
export const MAX_DISPATCH_BATCH = 32;

interface Waiting {
  readonly work: WorkItem;
  readonly resolve: (reply: DispatchReply | undefined) => void;
  readonly reject: (err: unknown) => void;
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
  readonly #batches = new Map<string, Waiting[]>();
  #flushScheduled = false;
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

  /** One request for one item; undefined for a reply that is not one. */
  async #single(subject: string, work: WorkItem): Promise<DispatchReply | undefined> {
    const msg = await this.bus.request(subject, JSON.stringify(work), {
      timeoutMs: this.opts.requestTimeoutMs ?? 2_000,
    });
    const parsed = dispatchReplySchema.safeParse(msg.json());
    return parsed.success ? parsed.data : undefined;
  }

  /**
   * Work dispatched to one partition within one turn of the event loop goes as one request
   * `{items: […]}` (at most MAX_DISPATCH_BATCH), answered item by item: one bus round trip for what
   * a scheduling tick finds due together. A lone item goes as itself.
   */
  #coalesced(subject: string, work: WorkItem): Promise<DispatchReply | undefined> {
    return new Promise((resolve, reject) => {
      const batch = this.#batches.get(subject) ?? [];
      batch.push({ work, resolve, reject });
      this.#batches.set(subject, batch);
      if (batch.length >= MAX_DISPATCH_BATCH) this.#flush(subject);
      else if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => {
          this.#flushScheduled = false;
          for (const s of [...this.#batches.keys()]) this.#flush(s);
        });
      }
    });
  }

  #flush(subject: string): void {
    const batch = this.#batches.get(subject) ?? [];
    this.#batches.delete(subject);
    if (batch.length === 0) return;
    const only = batch[0];
    if (batch.length === 1 && only !== undefined) {
      this.#single(subject, only.work).then(only.resolve, only.reject);
      return;
    }
    const payload = JSON.stringify({ items: batch.map((b) => b.work) });
    this.bus
      .request(subject, payload, { timeoutMs: this.opts.requestTimeoutMs ?? 2_000 })
      .then((msg) => {
        const parsed = dispatchBatchReplySchema.safeParse(msg.json());
        batch.forEach((b, i) =>
          b.resolve(
            parsed.success && parsed.data.replies.length === batch.length
              ? parsed.data.replies[i]
              : undefined,
          ),
        );
      })
      .catch((err: unknown) => {
        for (const b of batch) b.reject(err);
      });
  }

  /** One round: a request, repeated at once while pollers refuse. */
  async #offer(work: WorkItem): Promise<DispatchOutcome> {
    const subject = dispatchSubject(work.tenant, work.partition);
    const tries = 1 + (this.opts.refusalRetries ?? 3);
    let last: Extract<DispatchReply, { accepted: false }> | undefined;
    for (let i = 0; i < tries; i++) {
      let reply: DispatchReply;
      try {
        // The first try goes with whatever else is dispatched to the partition now; retries alone.
        const answer = i === 0 ? await this.#coalesced(subject, work) : await this.#single(subject, work);
        if (answer === undefined) {
          this.opts.logger.warn({ work: work.id }, "a poller sent an invalid dispatch reply");
          continue;
        }
        reply = answer;
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
