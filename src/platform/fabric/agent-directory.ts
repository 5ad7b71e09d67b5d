import type { Logger } from "pino";
import type { Bus, KvEntry, KvWatcher } from "../bus/types.js";
import {
  HEARTBEAT_MS,
  REGISTRY_BUCKET,
  REGISTRY_TTL_HEARTBEATS,
  type RegistryEntry,
  registryEntrySchema,
} from "./contract.js";

export interface AgentDirectoryOptions {
  readonly tenant: string;
  readonly partition: string;
  readonly bucket?: string;
  /**
   * An agent whose heartbeatAt is older than this is skipped: the bucket's TTL removes a silent
   * entry, but NATS reports no deletion for an expired key, so a watcher would otherwise keep it.
   */
  readonly staleAfterMs?: number;
  readonly logger: Logger;
  /** Use the bucket core created (see RegistrationOptions.bind). */
  readonly bind?: boolean;
}

/**
 * The agents of one tenant and partition, as a poller sees them: a watch on the registry keys
 * `<tenant>.agent.<partition>.*` (so another tenant's agents are never even delivered), kept in
 * memory so that picking an agent costs no bus round trip.
 */
export class AgentDirectory {
  readonly #agents = new Map<string, RegistryEntry>();
  #cursor = 0;

  #watcher: KvWatcher | undefined;

  private constructor(private readonly opts: AgentDirectoryOptions) {}

  static async open(bus: Bus, opts: AgentDirectoryOptions): Promise<AgentDirectory> {
    const directory = new AgentDirectory(opts);
    // No options: a reader must not change the bucket's TTL, which the registering side sets.
    const kv = await bus.kv(opts.bucket ?? REGISTRY_BUCKET, opts.bind === true ? { bind: true } : {});
    // The directory exists before the watch starts, so no entry delivered early is lost.
    directory.#watcher = await kv.watch((entry) => directory.#apply(entry), {
      key: `${opts.tenant}.agent.${opts.partition}.*`,
      includeHistory: true,
    });
    return directory;
  }

  #apply(entry: KvEntry): void {
    if (entry.operation === "DEL") {
      this.#agents.delete(entry.key);
      return;
    }
    let parsed: RegistryEntry;
    try {
      parsed = registryEntrySchema.parse(entry.json());
    } catch (err) {
      this.opts.logger.warn({ err, key: entry.key }, "ignoring an invalid registry entry");
      this.#agents.delete(entry.key);
      return;
    }
    // The key pattern already scopes the watch; the entry must agree with its key as well.
    if (
      parsed.kind !== "agent" ||
      parsed.tenant !== this.opts.tenant ||
      parsed.partition !== this.opts.partition
    ) {
      this.opts.logger.warn({ key: entry.key }, "ignoring a registry entry that does not match its key");
      this.#agents.delete(entry.key);
      return;
    }
    this.#agents.set(entry.key, parsed);
  }

  /** Active, fresh agents offering `capability`, in key order. */
  eligible(capability: string, now = Date.now()): RegistryEntry[] {
    const staleAfterMs = this.opts.staleAfterMs ?? REGISTRY_TTL_HEARTBEATS * HEARTBEAT_MS;
    return [...this.#agents.entries()]
      .filter(
        ([, a]) =>
          a.mode === "active" &&
          a.capabilities.includes(capability) &&
          now - Date.parse(a.heartbeatAt) <= staleAfterMs,
      )
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, a]) => a);
  }

  /**
   * The next eligible agent in round-robin order, or undefined when there is none. Work bound to one
   * agent (a checker's) gets that agent or none: another agent may not reach the same targets.
   */
  pick(capability: string, agentId?: string): RegistryEntry | undefined {
    const candidates = this.eligible(capability);
    if (agentId !== undefined) return candidates.find((a) => a.id === agentId);
    if (candidates.length === 0) return undefined;
    const agent = candidates[this.#cursor % candidates.length];
    this.#cursor = (this.#cursor + 1) % Number.MAX_SAFE_INTEGER;
    return agent;
  }

  async stop(): Promise<void> {
    await this.#watcher?.stop();
  }
}
