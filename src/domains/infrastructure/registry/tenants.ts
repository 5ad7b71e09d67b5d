import { eq } from "drizzle-orm";
import { tenants } from "../../../kernel/kernel.schema.js";
import { inScope } from "../../../kernel/tenancy/transaction.js";
import type { Orm } from "../../../platform/db/types.js";

/** How long an answer is trusted: a tenant suspended meanwhile is noticed this late. */
const TTL_MS = 5_000;
/** Bounds the cache against a flood of made-up slugs (each becomes a cached "unknown"). */
const MAX_ENTRIES = 10_000;

/**
 * Tenant slug → id of an *active* tenant, for registry keys (which name tenants by slug). Unknown and
 * suspended tenants both answer undefined: their components are not tracked. `tenants` is global, so
 * it is read in a transaction with no tenant and no bypass.
 */
export class ActiveTenants {
  readonly #cache = new Map<string, { readonly id: string | undefined; readonly at: number }>();

  constructor(
    private readonly orm: Orm,
    private readonly ttlMs = TTL_MS,
  ) {}

  async idOf(slug: string): Promise<string | undefined> {
    const now = Date.now();
    const cached = this.#cache.get(slug);
    if (cached !== undefined && now - cached.at < this.ttlMs) return cached.id;
    const [row] = await inScope(this.orm, { tenantId: null, bypass: false }, (tx) =>
      tx.select({ id: tenants.id, status: tenants.status }).from(tenants).where(eq(tenants.slug, slug)),
    );
    const id = row?.status === "active" ? row.id : undefined;
    if (this.#cache.size >= MAX_ENTRIES) this.#cache.clear();
    this.#cache.set(slug, { id, at: now });
    return id;
  }
}
