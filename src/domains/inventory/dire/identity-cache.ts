import type { TenantCache } from "../../../kernel/services.js";
import type { IdentifierState } from "./working-set.js";

export type CachedIdentifier = Omit<IdentifierState, "dirty">;

export interface IdentityCacheOptions {
  /** How long an entry is trusted (default 5 minutes): bounds staleness across core instances. */
  readonly ttlMs?: number;
  /** Entries kept per process (default 500,000); the oldest go first. */
  readonly maxEntries?: number;
}

/**
 * DIRE's in-process cache of identifier → device, per tenant, so that a steady stream of updates for
 * known devices skips the identifier lookup. Entries expire after a TTL and the tenant's entries are
 * dropped on every merge and unmerge in this process. Another core's merge is not seen until the TTL
 * passes; a stale entry naming a device that no longer exists is detected and looked up again, one
 * naming a merged device leads to its survivor.
 */
export class IdentityCache implements TenantCache {
  private readonly entries = new Map<string, { value: CachedIdentifier; at: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(opts: IdentityCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 5 * 60_000;
    this.maxEntries = opts.maxEntries ?? 500_000;
  }

  get size(): number {
    return this.entries.size;
  }

  get(tenantId: string, key: string): CachedIdentifier | undefined {
    const k = `${tenantId}\u0001${key}`;
    const e = this.entries.get(k);
    if (e === undefined) return undefined;
    if (Date.now() - e.at > this.ttlMs) {
      this.entries.delete(k);
      return undefined;
    }
    return { ...e.value };
  }

  set(tenantId: string, key: string, value: CachedIdentifier): void {
    const k = `${tenantId}\u0001${key}`;
    this.entries.delete(k);
    this.entries.set(k, { value: { ...value }, at: Date.now() });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  invalidateTenant(tenantId: string): void {
    const prefix = `${tenantId}\u0001`;
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
