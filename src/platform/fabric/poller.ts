import type { Logger } from "pino";
import type { Bus, InboundMessage, KvWatcher, Subscription } from "../bus/types.js";
import type { AgentCaller, AgentOutcome } from "./agent-caller.js";
import { AgentDirectory } from "./agent-directory.js";
import {
  CONTROL_BUCKET,
  type ControlEntry,
  controlSchema,
  DISPATCH_QUEUE,
  dispatchBatchSchema,
  type DispatchBatchReply,
  type DispatchReply,
  dispatchSubject,
  type RegistryEntry,
  registryKey,
  type WorkItem,
  workItemSchema,
} from "./contract.js";
import { RecentIds } from "./recent-ids.js";
import { type Registration, registerComponent } from "./registration.js";
import { ResultBatcher } from "./result-batcher.js";
import { ensureResultsStream } from "./results.js";

/**
 * Terminology:
 * - poller: a database-free process that takes work for one tenant partition from the dispatch
 *   subject's queue group and hands each item to one of that partition's agents.
 * - in flight: work the poller accepted and has not yet published a result for.
 * - mode: operator intent from the control bucket. `active` takes work; `maintenance` stays in the
 *   queue group but refuses; `draining` leaves the queue group (so other pollers get everything)
 *   and finishes what it has. A missing or deleted control key means `active`.
 */
export type PollerMode = ControlEntry["mode"];

export interface PollerOptions {
  readonly tenant: string;
  readonly partition: string;
  readonly id: string;
  readonly capabilities: readonly string[];
  readonly version: string;
  readonly host: string;
  readonly agentCaller: AgentCaller;
  readonly logger: Logger;
  readonly heartbeatMs?: number;
  /** Work accepted and not yet finished, at most; beyond it dispatch is refused as `busy` (default 64). */
  readonly maxInFlight?: number;
  /** How long stop() lets in-flight work finish before aborting it (default 10 s). */
  readonly drainTimeoutMs?: number;
  /** Added to a work item's timeout_ms before the poller aborts an agent call itself (default 1 s). */
  readonly callGraceMs?: number;
  /** How long a work id is remembered to run a redelivery once (default 10 min, 100k ids). */
  readonly dedupeWindowMs?: number;
  readonly dedupeMaxIds?: number;
  readonly agentStaleAfterMs?: number;
  readonly registryBucket?: string;
  readonly controlBucket?: string;
  /**
   * Use the buckets and the results stream core created instead of creating or describing them: a
   * NATS user confined to its tenant (`sonde nats-config`) may do nothing else. Core must have run.
   */
  readonly bind?: boolean;
}

export interface Poller {
  readonly key: string;
  mode(): PollerMode;
  inFlight(): number;
  /** Whether the poller is currently a member of the dispatch queue group. */
  subscribed(): boolean;
  /**
   * Leaves the queue group, lets in-flight work finish (up to drainTimeoutMs), aborts what is left —
   * its result is still published, with the abort as error — and deregisters. Idempotent.
   */
  stop(): Promise<void>;
}

export async function startPoller(bus: Bus, opts: PollerOptions): Promise<Poller> {
  const log = opts.logger.child({ tenant: opts.tenant, partition: opts.partition, poller: opts.id });
  const maxInFlight = opts.maxInFlight ?? 64;
  const recent = new RecentIds(opts.dedupeWindowMs ?? 600_000, opts.dedupeMaxIds ?? 100_000);
  const results = new ResultBatcher(bus, opts.id, opts.logger);
  const subject = dispatchSubject(opts.tenant, opts.partition);
  const key = registryKey({ tenant: opts.tenant, kind: "poller", partition: opts.partition, id: opts.id });
  const running = new Map<string, { abort: () => void; done: Promise<void> }>();
  const cleanups: Array<() => Promise<void>> = [];

  let mode: PollerMode = "active";
  let stopping = false;
  let subscription: Subscription | undefined;
  let registration: Registration | undefined;
  let directory: AgentDirectory | undefined;
  let watcher: KvWatcher | undefined;
  // Mode changes run one after another: a quick drain-then-resume must end subscribed.
  let transitions: Promise<void> = Promise.resolve();

  const reply = (msg: InboundMessage, r: DispatchReply | DispatchBatchReply) => {
    if (msg.replyTo !== undefined) msg.respond(JSON.stringify(r));
  };
  const refusal = (
    reason: Extract<DispatchReply, { accepted: false }>["reason"],
    message: string,
  ): DispatchReply => ({ accepted: false, poller_id: opts.id, reason, message });
  const invalid = (issues: readonly { path: PropertyKey[]; message: string }[]) =>
    refusal(
      "invalid",
      issues
        .map((i) => `${i.path.map(String).join(".")}: ${i.message}`)
        .join("; ")
        .slice(0, 1000),
    );

  /** Decides on one work item; an accepted one is returned with its agent, to run after the reply. */
  const admit = (work: WorkItem): { reply: DispatchReply; agent?: RegistryEntry } => {
    if (work.tenant !== opts.tenant || work.partition !== opts.partition) {
      return { reply: refusal("wrong_partition", `this poller serves ${opts.tenant}/${opts.partition}`) };
    }
    if (stopping || mode === "draining") return { reply: refusal("draining", "the poller is draining") };
    if (mode === "maintenance") return { reply: refusal("maintenance", "the poller is in maintenance") };
    // Already accepted here: acknowledging again stops the sender retrying, and it runs once.
    if (recent.has(work.id)) return { reply: { accepted: true, poller_id: opts.id } };
    if (running.size >= maxInFlight) return { reply: refusal("busy", `${maxInFlight} checks in flight`) };
    const agent = directory?.pick(work.capability, work.agent_id);
    if (agent === undefined) {
      const which = work.agent_id === undefined ? "no active agent" : `agent ${work.agent_id} is not active`;
      return { reply: refusal("no_agent", `${which} with capability ${work.capability}`) };
    }
    recent.add(work.id);
    // Counted as in flight at once, so that a batch cannot overshoot maxInFlight.
    running.set(work.id, { abort: () => {}, done: Promise.resolve() });
    return { reply: { accepted: true, poller_id: opts.id }, agent };
  };

  /** One work item, or a batch `{items: […]}` answered item by item in one reply. */
  const onDispatch = (msg: InboundMessage): void => {
    let raw: unknown;
    try {
      raw = msg.json();
    } catch {
      raw = undefined;
    }
    const batch = dispatchBatchSchema.safeParse(raw);
    if (batch.success) {
      const decided = batch.data.items.map(admit);
      // Accept before running: the sender only needs to know someone owns the work.
      reply(msg, { poller_id: opts.id, replies: decided.map((d) => d.reply) });
      batch.data.items.forEach((work, i) => {
        const agent = decided[i]?.agent;
        if (agent !== undefined) run(work, agent);
      });
      return;
    }
    const parsed = workItemSchema.safeParse(raw);
    if (!parsed.success) {
      reply(msg, invalid(parsed.error.issues));
      return;
    }
    const decided = admit(parsed.data);
    reply(msg, decided.reply);
    if (decided.agent !== undefined) run(parsed.data, decided.agent);
  };

  const run = (work: WorkItem, agent: RegistryEntry): void => {
    // One controller per check, aborted by the call's deadline or by stop(); `why` says which.
    const controller = new AbortController();
    let why: "timeout" | "stop" | undefined;
    const deadline = setTimeout(
      () => {
        why = "timeout";
        controller.abort();
      },
      work.timeout_ms + (opts.callGraceMs ?? 1_000),
    );
    deadline.unref();
    const abort = () => {
      why ??= "stop";
      controller.abort();
    };
    const done = (async () => {
      let outcome: AgentOutcome;
      try {
        // Raced against the signal: a caller that ignores it must not hold up the drain.
        outcome = await Promise.race([
          opts.agentCaller.call(agent, work, controller.signal),
          rejectOnAbort(controller.signal),
        ]);
      } catch (err) {
        const error =
          why === "stop"
            ? "aborted: the poller stopped before the check finished"
            : why === "timeout"
              ? `timed out after ${work.timeout_ms} ms`
              : `agent call failed: ${err instanceof Error ? err.message : String(err)}`;
        outcome = { available: false, message: null, response_time_ns: 0, error: error.slice(0, 2000) };
      } finally {
        clearTimeout(deadline);
      }
      const result = {
        work_id: work.id,
        tenant: work.tenant,
        partition: work.partition,
        poller_id: opts.id,
        agent_id: agent.id,
        available: outcome.available,
        message: outcome.message,
        response_time_ns: Math.max(0, Math.round(outcome.response_time_ns)),
        error: outcome.error === null ? null : outcome.error.slice(0, 2000),
        completed_at: new Date().toISOString(),
      };
      await results.add(result);
    })().finally(() => running.delete(work.id));
    running.set(work.id, { abort, done });
  };

  const subscribe = () => {
    if (subscription !== undefined || stopping) return;
    subscription = bus.subscribe(subject, onDispatch, { queue: DISPATCH_QUEUE });
  };
  const unsubscribe = async () => {
    const s = subscription;
    subscription = undefined;
    await s?.unsubscribe();
  };

  const applyMode = (next: PollerMode): Promise<void> => {
    const step = transitions.then(async () => {
      if (stopping) return;
      const previous = mode;
      mode = next;
      if (next === "draining") await unsubscribe();
      else subscribe();
      if (previous !== next) log.info({ mode: next, previous }, "poller mode changed");
      await registration?.setMode(next === "active" ? "active" : "draining");
    });
    transitions = step.catch((err: unknown) => log.warn({ err }, "applying the poller mode failed"));
    return transitions;
  };

  try {
    if (opts.bind !== true) await ensureResultsStream(bus);
    directory = await AgentDirectory.open(bus, {
      ...(opts.bind === true ? { bind: true } : {}),
      tenant: opts.tenant,
      partition: opts.partition,
      logger: log,
      ...(opts.registryBucket === undefined ? {} : { bucket: opts.registryBucket }),
      ...(opts.agentStaleAfterMs === undefined ? {} : { staleAfterMs: opts.agentStaleAfterMs }),
    });
    const dir = directory;
    cleanups.push(() => dir.stop());
    registration = await registerComponent(
      bus,
      {
        kind: "poller",
        tenant: opts.tenant,
        partition: opts.partition,
        id: opts.id,
        capabilities: [...opts.capabilities],
        version: opts.version,
        host: opts.host,
      },
      {
        logger: log,
        ...(opts.heartbeatMs === undefined ? {} : { heartbeatMs: opts.heartbeatMs }),
        ...(opts.registryBucket === undefined ? {} : { bucket: opts.registryBucket }),
        ...(opts.bind === true ? { bind: true } : {}),
      },
    );
    const reg = registration;
    cleanups.push(() => reg.stop());
    const control = await bus.kv(
      opts.controlBucket ?? CONTROL_BUCKET,
      opts.bind === true ? { bind: true } : {},
    );
    let initial: PollerMode = "active";
    let ready = false;
    watcher = await control.watch(
      (entry) => {
        let next: PollerMode = "active";
        if (entry.operation === "PUT") {
          const parsed = controlSchema.safeParse(safeJson(entry));
          if (!parsed.success) {
            log.warn({ key }, "ignoring an invalid control entry");
            return;
          }
          next = parsed.data.mode;
        }
        if (ready) void applyMode(next);
        else initial = next;
      },
      { key, includeHistory: true },
    );
    const w = watcher;
    cleanups.push(() => w.stop());
    // The current control entry (if any) is delivered first; wait for it before joining the group, so a
    // poller restarted while drained does not take work for a moment.
    const current = await control.get(key);
    if (current !== null) {
      const parsed = controlSchema.safeParse(safeJson(current));
      if (parsed.success) initial = parsed.data.mode;
    }
    ready = true;
    await applyMode(initial);
  } catch (err) {
    for (const cleanup of cleanups.toReversed()) await cleanup().catch(() => {});
    throw err;
  }
  log.info({ subject, maxInFlight }, "poller started");

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    await transitions;
    stopping = true;
    await unsubscribe();
    await registration?.setMode("draining").catch(() => {});
    const drainTimeoutMs = opts.drainTimeoutMs ?? 10_000;
    const all = () => Promise.allSettled([...running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      all().then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), drainTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (!finished) {
      log.warn({ inFlight: running.size }, "drain timeout: aborting in-flight checks");
      for (const r of running.values()) r.abort();
      await all();
    }
    for (const cleanup of cleanups.toReversed()) {
      await cleanup().catch((err: unknown) => log.warn({ err }, "poller cleanup failed"));
    }
    log.info("poller stopped");
  };

  return {
    key,
    mode: () => mode,
    inFlight: () => running.size,
    subscribed: () => subscription !== undefined,
    stop() {
      stopped ??= stop();
      return stopped;
    },
  };
}

function safeJson(entry: { json(): unknown }): unknown {
  try {
    return entry.json();
  } catch {
    return undefined;
  }
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
}
