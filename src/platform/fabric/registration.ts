import type { Logger } from "pino";
import type { Bus, KvBucket } from "../bus/types.js";
import {
  HEARTBEAT_MS,
  REGISTRY_BUCKET,
  REGISTRY_TTL_HEARTBEATS,
  type RegistryEntry,
  registryEntrySchema,
  registryKey,
} from "./contract.js";

export interface RegistrationOptions {
  /** How often the entry is re-put; the bucket's TTL is REGISTRY_TTL_HEARTBEATS of these. */
  readonly heartbeatMs?: number;
  /** The registry bucket; tests pass their own so that a short TTL does not touch the shared one. */
  readonly bucket?: string;
  readonly logger?: Logger;
  /**
   * Use the bucket core created instead of creating or describing it: what a NATS user confined to
   * its tenant's keys can do (`sonde nats-config`). Core must have started once.
   */
  readonly bind?: boolean;
}

export interface Registration {
  readonly key: string;
  /** The entry as last written. */
  current(): RegistryEntry;
  /** Writes the new mode at once (and on every later heartbeat). */
  setMode(mode: RegistryEntry["mode"]): Promise<void>;
  /** Stops the heartbeat and deletes the key. Idempotent. */
  stop(): Promise<void>;
}

/** Opens the registry bucket with the TTL that matches a heartbeat period. */
export function openRegistryBucket(
  bus: Bus,
  heartbeatMs: number,
  bucket = REGISTRY_BUCKET,
): Promise<KvBucket> {
  return bus.kv(bucket, { ttlMs: REGISTRY_TTL_HEARTBEATS * heartbeatMs, history: 1 });
}

/**
 * Puts a poller's or agent's RegistryEntry in the registry bucket and re-puts it every heartbeat with
 * a fresh `heartbeatAt`. NATS 2.9 has no per-key TTL, so an entry whose heartbeats stop disappears
 * only through the bucket's TTL (REGISTRY_TTL_HEARTBEATS heartbeats after its last put). The entry is
 * validated against the contract before the first put, so a bad id or slug fails at start.
 */
export async function registerComponent(
  bus: Bus,
  entry: Omit<RegistryEntry, "heartbeatAt" | "startedAt" | "mode"> &
    Partial<Pick<RegistryEntry, "startedAt" | "mode">>,
  opts: RegistrationOptions = {},
): Promise<Registration> {
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
  const now = new Date().toISOString();
  let current: RegistryEntry = registryEntrySchema.parse({
    ...entry,
    mode: entry.mode ?? "active",
    startedAt: entry.startedAt ?? now,
    heartbeatAt: now,
  });
  const key = registryKey(current);
  const kv =
    opts.bind === true
      ? await bus.kv(opts.bucket ?? REGISTRY_BUCKET, { bind: true })
      : await openRegistryBucket(bus, heartbeatMs, opts.bucket);
  const write = async () => {
    current = { ...current, heartbeatAt: new Date().toISOString() };
    await kv.put(key, JSON.stringify(current));
  };
  await write();

  let stopped = false;
  // One write at a time: a heartbeat must not land after stop()'s delete and resurrect the key.
  let writing: Promise<void> = Promise.resolve();
  const serial = (action: () => Promise<void>): Promise<void> => {
    const next = writing.then(action);
    writing = next.catch(() => {});
    return next;
  };
  const timer = setInterval(() => {
    if (stopped) return;
    serial(write).catch((err: unknown) => opts.logger?.warn({ err, key }, "registry heartbeat failed"));
  }, heartbeatMs);
  timer.unref();

  return {
    key,
    current: () => current,
    setMode(mode) {
      current = { ...current, mode };
      if (stopped) return Promise.resolve();
      return serial(write);
    },
    stop() {
      if (stopped) return writing;
      stopped = true;
      clearInterval(timer);
      return serial(() => kv.delete(key));
    },
  };
}
