import type { AgentOutcome } from "../platform/fabric/agent-caller.js";
import type { WorkItem } from "../platform/fabric/contract.js";
import type { AgentClient } from "./agent-client.js";
import type { BatchCheck } from "./batch.js";

interface Waiting {
  readonly work: WorkItem;
  readonly resolve: (outcome: AgentOutcome) => void;
  readonly reject: (err: unknown) => void;
}

/** Checks in one GetResults batch at most. */
export const MAX_COALESCED = 64;

/**
 * Coalesces the calls a poller makes to one agent within one turn of the event loop into a single
 * GetResults batch: one gRPC call (one HTTP/2 stream, one message each way) instead of one per check,
 * which is most of a check's cost on a busy poller. A batch answers when its slowest check does, so
 * only checks of one service type go together (a slow HTTP check never holds up TCP ones), and a
 * lone call is sent on its own. Work without an agent-side batch (a failed batch) is the caller's to
 * retry singly.
 */
export class AgentBatcher {
  readonly #queues = new Map<string, Waiting[]>();
  #scheduled = false;

  constructor(
    private readonly client: AgentClient,
    private readonly ids: { readonly pollerId: string; readonly agentId: string },
    private readonly graceMs: number,
  ) {}

  run(work: WorkItem): Promise<AgentOutcome> {
    return new Promise((resolve, reject) => {
      const queue = this.#queues.get(work.service_type) ?? [];
      queue.push({ work, resolve, reject });
      this.#queues.set(work.service_type, queue);
      if (queue.length >= MAX_COALESCED) this.#flushType(work.service_type);
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    for (const type of [...this.#queues.keys()]) this.#flushType(type);
  }

  #flushType(type: string): void {
    const batch = this.#queues.get(type) ?? [];
    this.#queues.delete(type);
    if (batch.length > 0) void this.#send(batch);
  }

  async #send(batch: readonly Waiting[]): Promise<void> {
    const checks: BatchCheck[] = batch.map(({ work }) => ({
      service_name: work.service_name,
      service_type: work.service_type,
      details: work.details,
      ...(work.port === 0 ? {} : { port: work.port }),
      timeout_ms: work.timeout_ms,
    }));
    const longest = Math.max(...batch.map((w) => w.work.timeout_ms));
    try {
      const answer = await this.client.getResults(
        { checks, pollerId: this.ids.pollerId, agentId: this.ids.agentId },
        { timeoutMs: longest + this.graceMs },
      );
      batch.forEach((waiting, i) => {
        const r = answer.results[i];
        if (r === undefined) {
          waiting.reject(new Error("the agent's batch answer is missing this check"));
          return;
        }
        waiting.resolve({
          available: r.available,
          message: r.message,
          response_time_ns: r.response_time,
          error: null,
        });
      });
    } catch (err) {
      for (const waiting of batch) waiting.reject(err);
    }
  }
}
