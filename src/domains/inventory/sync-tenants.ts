import { eq } from "drizzle-orm";
import { type TENANT_STATUSES, tenants } from "../../kernel/kernel.schema.js";
import type { Orm } from "../../platform/db/types.js";

/** How long an answer is trusted: a tenant created or deleted meanwhile is noticed this late. */
const TTL_MS = 30_000;
/** Bounds the cache against a flood of made-up slugs (each becomes a cached "unknown"). */
const MAX_ENTRIES = 10_000;

export interface TenantRow {
  readonly id: string;
  readonly status: (typeof TENANT_STATUSES)[number];
}

/**
 * Tenant slug → id and status for the sync stream, whose subjects name tenants by slug. Unknown
 * slugs are cached too, so that messages for a tenant that does not exist cost no query each; a
 * suspension is noticed within the cache's TTL. Database errors propagate: the caller retries the
 * message later.
 */
export class TenantIdsBySlug {
  readonly #cache = new Map<string, { readonly row: TenantRow | undefined; readonly at: number }>();

  constructor(private readonly orm: Orm) {}

  async lookup(slug: string): Promise<TenantRow | undefined> {
    const now = Date.now();
    const cached = this.#cache.get(slug);
    if (cached !== undefined && now - cached.at < TTL_MS) return cached.row;
    const [row] = await this.orm
      .select({ id: tenants.id, status: tenants.status })
      .from(tenants)
      .where(eq(tenants.slug, slug));
    if (this.#cache.size >= MAX_ENTRIES) this.#cache.clear();
    this.#cache.set(slug, { row, at: now });
    return row;
  }
}
