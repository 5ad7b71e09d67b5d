import type { Logger } from "pino";
import type { Bus } from "../bus/types.js";
import type { WorkResult } from "./contract.js";
import { publishResultBatch } from "./results.js";

/** Results in one stream message at most, and how long the first of them waits for company. */
export const MAX_BATCH_RESULTS = 64;
export const BATCH_WAIT_MS = 5;
const PUBLISH_ATTEMPTS = 3;

interface Pending {
  readonly result: WorkResult;
  readonly done: () => void;
}

/**
 * A poller's results go to SONDE_RESULTS in batches: whatever completed within a few milliseconds
 * (or 64 results) is one message and one JetStream acknowledgement instead of one each, which is
 * most of a result's cost on the bus. A poller serves one tenant partition, so a batch does too.
 * `add` resolves once the result's batch is stored (or given up after three attempts, logged), so
 * the poller still knows when a check is finished with.
 */
export class ResultBatcher {
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #sequence = 0;

  constructor(
    private readonly bus: Bus,
    private readonly pollerId: string,
    private readonly logger: Logger,
  ) {}

  add(result: WorkResult): Promise<void> {
    return new Promise((resolve) => {
      this.#pending.push({ result, done: resolve });
      if (this.#pending.length >= MAX_BATCH_RESULTS) this.flush();
      else this.#timer ??= setTimeout(() => this.flush(), BATCH_WAIT_MS);
    });
  }

  /** Publishes what is waiting now (also on stop). */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length > 0) void this.#publish(batch);
  }

  async #publish(batch: readonly Pending[]): Promise<void> {
    // Unique per poller run and batch; the same id on every attempt, so a lost ack stores it once.
    const msgId = `${this.pollerId}:${process.pid}:${Date.now()}:${++this.#sequence}`;
    for (let attempt = 1; ; attempt++) {
      try {
        await publishResultBatch(
          this.bus,
          batch.map((p) => p.result),
          msgId,
        );
        break;
      } catch (err) {
        if (attempt >= PUBLISH_ATTEMPTS) {
          this.logger.error(
            { err, results: batch.length, works: batch.slice(0, 5).map((p) => p.result.work_id) },
            "could not publish work results",
          );
          break;
        }
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
    for (const p of batch) p.done();
  }
}
