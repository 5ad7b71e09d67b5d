import type { Logger } from "pino";
import type { Kernel } from "../../../kernel/kernel.js";
import type { Bus, KvEntry, KvWatcher } from "../../../platform/bus/types.js";
import type { Orm } from "../../../platform/db/types.js";
import {
  COMPONENT_KINDS,
  type ComponentKind,
  componentIdSchema,
  HEARTBEAT_MS,
  REGISTRY_BUCKET,
  REGISTRY_TTL_HEARTBEATS,
  registryEntrySchema,
  slugSchema,
} from "../../../platform/fabric/contract.js";
import { RegistryApplier } from "./apply.js";
import { sweepMissedHeartbeats } from "./sweep.js";
import { ActiveTenants } from "./tenants.js";

export interface RegistryWatcherOptions {
  readonly kernel: Kernel;
  readonly orm: Orm;
  readonly bus: Bus;
  readonly logger: Logger;
  /** The pollers' and agents' heartbeat period (HEARTBEAT_MS); tests shorten it. */
  readonly heartbeatMs?: number;
  /** The registry bucket (REGISTRY_BUCKET); tests use one of their own. */
  readonly bucket?: string;
  /** How long a tenant lookup is trusted (default 5 s). */
  readonly tenantTtlMs?: number;
  /** Entries applied at once (default 8): the first pass over a full registry must not drain the pool. */
  readonly concurrency?: number;
}

export interface RegistryWatcher {
  /** Runs one missed-heartbeat sweep now (the timer runs them every half period). */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

interface KeyParts {
  readonly tenant: string;
  readonly kind: ComponentKind;
  readonly partition: string;
  readonly id: string;
}

/** `<tenant>.<kind>.<partition>.<id>`, each token checked as the contract defines it. */
function parseKey(key: string): KeyParts | undefined {
  const [tenant, kind, partition, id, ...rest] = key.split(".");
  if (rest.length > 0 || !COMPONENT_KINDS.includes(kind as ComponentKind)) return undefined;
  if (!slugSchema.safeParse(tenant).success || !slugSchema.safeParse(partition).success) return undefined;
  if (!componentIdSchema.safeParse(id).success) return undefined;
  return {
    tenant: String(tenant),
    kind: kind as ComponentKind,
    partition: String(partition),
    id: String(id),
  };
}

/** Runs at most `max` tasks at once; a finished task hands its slot straight to the next waiting one. */
function slots(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else active += 1;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next !== undefined) next();
      else active -= 1;
    }
  };
}

/** Bounds the set of slugs already warned about, so that a flood of made-up keys cannot grow it. */
const MAX_WARNED = 1_000;

/**
 * Core's side of the registry (docs/infrastructure.md): watches `sonde-registry` from its current
 * contents on, and applies each entry to its tenant's poller or agent as the system actor, in that
 * tenant only (the key's tenant slug; an unknown or suspended tenant's entries are logged and
 * dropped, an entry whose body names another tenant than its key is dropped). Entries of one key are
 * applied in order; different keys run side by side. A timer sweeps for missed heartbeats every half
 * period. Several cores may run this at once: every write is idempotent (see apply.ts).
 */
export async function startRegistryWatcher(opts: RegistryWatcherOptions): Promise<RegistryWatcher> {
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
  const logger = opts.logger.child({ component: "registry-watcher" });
  const applier = new RegistryApplier(opts.kernel, logger);
  const tenants = new ActiveTenants(opts.orm, opts.tenantTtlMs);
  const warned = new Set<string>();
  const chains = new Map<string, Promise<void>>();
  const slot = slots(opts.concurrency ?? 8);
  let stopped = false;

  const ignore = (key: string, why: string, slug?: string) => {
    const mark = slug ?? key;
    if (warned.has(mark)) return;
    if (warned.size >= MAX_WARNED) warned.clear();
    warned.add(mark);
    logger.warn({ key, why }, "registry entry ignored");
  };

  async function apply(entry: KvEntry): Promise<void> {
    const parts = parseKey(entry.key);
    if (parts === undefined) return ignore(entry.key, "not a registry key");
    const tenantId = await tenants.idOf(parts.tenant);
    if (tenantId === undefined) return ignore(entry.key, "unknown or suspended tenant", parts.tenant);
    if (entry.operation === "DEL") {
      await applier.removed(tenantId, parts.kind, parts.partition, parts.id);
      return;
    }
    let body: unknown;
    try {
      body = entry.json();
    } catch {
      return ignore(entry.key, "not JSON");
    }
    const parsed = registryEntrySchema.safeParse(body);
    if (!parsed.success) return ignore(entry.key, "not a registry entry");
    const e = parsed.data;
    if (
      e.tenant !== parts.tenant ||
      e.kind !== parts.kind ||
      e.partition !== parts.partition ||
      e.id !== parts.id
    )
      return ignore(entry.key, "the entry names another key than its own");
    await applier.heartbeat(tenantId, e);
  }

  // One chain per key keeps a key's entries in order without holding up the others.
  function enqueue(entry: KvEntry): void {
    if (stopped) return;
    const previous = chains.get(entry.key) ?? Promise.resolve();
    const next = previous
      .then(() => slot(() => apply(entry)))
      .catch((err: unknown) => logger.error({ err, key: entry.key }, "registry entry not applied"))
      .finally(() => {
        if (chains.get(entry.key) === next) chains.delete(entry.key);
      });
    chains.set(entry.key, next);
  }

  const bucket = await opts.bus.kv(opts.bucket ?? REGISTRY_BUCKET, {
    ttlMs: heartbeatMs * REGISTRY_TTL_HEARTBEATS,
  });
  const watcher: KvWatcher = await bucket.watch(enqueue, { includeHistory: true });

  let sweeping: Promise<number> | undefined;
  const sweep = (): Promise<number> => {
    sweeping ??= sweepMissedHeartbeats({
      kernel: opts.kernel,
      orm: opts.orm,
      applier,
      heartbeatMs,
      logger,
    }).finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  };
  const timer = setInterval(
    () => {
      sweep().catch((err: unknown) => logger.error({ err }, "missed-heartbeat sweep failed"));
    },
    Math.max(10, Math.floor(heartbeatMs / 2)),
  );
  timer.unref();

  return {
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await watcher.stop();
      await Promise.allSettled([...chains.values(), sweeping ?? Promise.resolve()]);
    },
  };
}
