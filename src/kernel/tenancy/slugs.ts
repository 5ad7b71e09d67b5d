import { eq } from "drizzle-orm";
import { SondeError } from "../../lib/errors.js";
import { tenants } from "../kernel.schema.js";
import type { Tx } from "./transaction.js";

/**
 * Tenant id → slug, for bus subjects. Slugs are immutable, so the cache never goes stale; work
 * without a tenant is published under `platform`.
 */
export class TenantSlugs {
  private readonly cache = new Map<string, string>();

  async of(tx: Tx, tenantId: string | null): Promise<string> {
    if (tenantId === null) return "platform";
    const cached = this.cache.get(tenantId);
    if (cached !== undefined) return cached;
    const row = (await tx.select({ slug: tenants.slug }).from(tenants).where(eq(tenants.id, tenantId)))[0];
    if (row === undefined) throw new SondeError("SONDE_NOT_FOUND", `tenant ${tenantId} does not exist`);
    this.cache.set(tenantId, row.slug);
    return row.slug;
  }
}
