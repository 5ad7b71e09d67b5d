import type { Logger } from "pino";
import { z } from "zod";
import { isSondeError } from "../../lib/errors.js";
import type { Bus, KvBucket, KvEntry } from "../bus/types.js";

/** The bucket of leases; no TTL: expiry is in each value, because a bucket TTL is per bucket. */
export const LEASE_BUCKET = "sonde-leases";

const leaseValueSchema = z.object({
  holder: z.string().min(1),
  /** Milliseconds since the epoch; past it, any contender may take the lease over. */
  expiresAt: z.number().int(),
  acquiredAt: z.number().int(),
});
type LeaseValue = z.infer<typeof leaseValueSchema>;

export interface LeaseOptions {
  readonly ttlMs: number;
  /** Renewal (and, for contenders, retry) period; default ttlMs / 3. */
  readonly renewMs?: number;
  readonly bucket?: string;
  /** Acquisitions, losses and releases are logged here when given. */
  readonly logger?: Logger;
  /** This holder became the leader. */
  readonly onAcquired?: () => void;
  /** This holder stopped being the leader without releasing: renewal failed or another took over. */
  readonly onLost?: (reason: string) => void;
}

export interface Lease {
  readonly name: string;
  readonly holderId: string;
  /**
   * True while this holder has the lease and its own expiry has not passed: a leader that cannot
   * renew stops leading at its expiry even before it learns of a takeover.
   */
  isLeader(): boolean;
  /** Gives the lease up (deletes it when held) and stops contending. Idempotent. */
  release(): Promise<void>;
  /**
   * Stops renewing and contending without releasing, as a crashed process would: the lease stays
   * held until its expiry. For failover drills and tests.
   */
  abandon(): void;
}

/**
 * Contends for a named lease with compare-and-set on a KV bucket: `create` when nobody holds it,
 * `update` with the expected revision to renew or to take over a lease whose expiry passed. The
 * leader renews every renewMs; a contender checks as often, so it takes over within ttlMs + renewMs
 * of the leader's last renewal. Expiry compares wall clocks of different hosts: keep them in sync
 * (NTP) and ttlMs well above the skew.
 */
export async function acquireLease(
  bus: Bus,
  name: string,
  holderId: string,
  opts: LeaseOptions,
): Promise<Lease> {
  const renewMs = opts.renewMs ?? Math.max(1, Math.floor(opts.ttlMs / 3));
  const kv = await bus.kv(opts.bucket ?? LEASE_BUCKET, { history: 1 });
  const log = opts.logger?.child({ lease: name, holder: holderId });

  let revision: number | undefined;
  let expiresAt = 0;
  let leading = false;
  let released = false;

  const value = (): string => {
    expiresAt = Date.now() + opts.ttlMs;
    const v: LeaseValue = { holder: holderId, expiresAt, acquiredAt: Date.now() };
    return JSON.stringify(v);
  };
  const become = (rev: number) => {
    revision = rev;
    if (!leading) {
      leading = true;
      log?.info("lease acquired");
      opts.onAcquired?.();
    }
  };
  const lose = (reason: string) => {
    if (!leading) return;
    leading = false;
    revision = undefined;
    log?.warn({ reason }, "lease lost");
    opts.onLost?.(reason);
  };

  const tick = async (): Promise<void> => {
    if (released) return;
    if (leading && revision !== undefined) {
      if (Date.now() >= expiresAt) {
        lose("the lease expired before it could be renewed");
        return;
      }
      try {
        become(await kv.update(name, value(), revision));
      } catch (err) {
        lose(
          isSondeError(err, "SONDE_KV_REVISION_MISMATCH")
            ? "another holder took the lease"
            : "renewal failed",
        );
      }
      return;
    }
    await contend(kv, name).catch((err: unknown) => {
      if (!isSondeError(err, "SONDE_KV_REVISION_MISMATCH")) log?.debug({ err }, "lease contention failed");
    });
  };

  const contend = async (bucket: KvBucket, key: string): Promise<void> => {
    const current = await bucket.get(key);
    if (current === null) {
      become(await bucket.create(key, value()));
      return;
    }
    const held = parse(current);
    if (held !== undefined && held.holder !== holderId && held.expiresAt > Date.now()) return;
    // Expired, unreadable, or our own from before a restart: take it over at its revision.
    become(await bucket.update(key, value(), current.revision));
  };

  // Ticks never overlap: a slow bus must not let a renewal race the next one.
  let running: Promise<void> = tick();
  await running;
  const timer = setInterval(() => {
    running = running.then(tick);
  }, renewMs);
  timer.unref();

  return {
    name,
    holderId,
    isLeader: () => leading && Date.now() < expiresAt,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await running;
      if (leading && revision !== undefined) {
        leading = false;
        // Delete only while it is still ours: after our expiry another holder may have taken it.
        const current = await kv.get(name);
        if (current !== null && current.revision === revision) await kv.delete(name);
        log?.info("lease released");
      }
    },
    abandon() {
      released = true;
      clearInterval(timer);
      leading = false;
    },
  };
}

function parse(entry: KvEntry): LeaseValue | undefined {
  try {
    const parsed = leaseValueSchema.safeParse(entry.json());
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
