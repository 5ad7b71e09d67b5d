/**
 * Plan limits (ResourceSpec.quota): a create may not take a tenant past its `max_users`/`max_devices`.
 * The tenant's row is locked before the insert, so concurrent creates in one tenant queue behind each
 * other, and the rows are counted after it, in the same transaction: an upsert that only updated an
 * existing row does not count twice, and a create past the limit rolls back with nothing written.
 */
import { and, count, eq } from "drizzle-orm";
import { SondeError } from "../../lib/errors.js";
import type { Filter } from "../filter.js";
import { tenants } from "../kernel.schema.js";
import type { AnyResource } from "../resource/types.js";
import { filterToSql } from "../sql/filter-sql.js";
import { systemActor } from "../actor.js";
import type { Tx } from "../tenancy/transaction.js";
import { fieldResolver } from "./projection.js";

type Lookup = (name: string) => AnyResource;

export interface QuotaCheck {
  /** Call after the insert: refuses (rolling the write back) when the tenant is past its limit. */
  verify(): Promise<void>;
}

const NO_CHECK: QuotaCheck = { verify: async () => undefined };

/** Locks the tenant's row and returns the check to run after the write; a no-op without a quota. */
export async function lockQuota(
  tx: Tx,
  resource: AnyResource,
  lookup: Lookup,
  tenantId: string | null,
): Promise<QuotaCheck> {
  const quota = resource.spec.quota;
  if (quota === undefined || tenantId === null) return NO_CHECK;
  const [row] = await tx
    .select({ limit: tenants[quota.limit], slug: tenants.slug })
    .from(tenants)
    .where(eq(tenants.id, tenantId))
    .for("update");
  const limit = row?.limit ?? null;
  if (row === undefined || limit === null) return NO_CHECK;
  const counted = quota.counts !== undefined ? lookup(quota.counts().name) : resource;
  const where: Filter = quota.where ?? true;
  return {
    async verify() {
      const tenantColumn = counted.tenantColumn;
      if (tenantColumn === undefined) return;
      const [result] = await tx
        .select({ n: count() })
        .from(counted.table)
        .where(
          and(
            eq(tenantColumn, tenantId),
            filterToSql(where, fieldResolver(counted, lookup), systemActor("quota")),
          ),
        );
      const n = Number(result?.n ?? 0);
      // Counting itself, the new row is among the n; counting another resource (invitations bounded
      // by memberships), the new row would need one more to be free.
      const existing = counted === resource ? n - 1 : n;
      if (existing >= limit) {
        throw new SondeError(
          "SONDE_TENANT_LIMIT_REACHED",
          `tenant ${row.slug} may have at most ${limit} ${counted.plural} (${quota.limit}) and has ${existing}`,
          { meta: { limit: quota.limit, max: limit, resource: counted.name } },
        );
      }
    },
  };
}
