import { and, eq } from "drizzle-orm";
import { SondeError } from "../../lib/errors.js";
import type { Filter } from "../filter.js";
import type { AnyResource } from "../resource/types.js";
import { filterToSql } from "../sql/filter-sql.js";
import { APP_ROLE, SYSTEM_ROLE } from "../tenancy/rls.js";
import { asRole, type TenantScope, type Tx } from "../tenancy/transaction.js";
import { defaultAction } from "./actions.js";
import { type ActionContext, authorize } from "./authorize.js";
import { pkColumn, validId } from "./columns.js";
import { fieldResolver } from "./projection.js";

type Rec = Readonly<Record<string, unknown>>;

/**
 * A belongs_to key may only name a record the actor can read. Foreign keys are checked by PostgreSQL
 * without row-level security, so without this a tenant could point at (and probe for) another
 * tenant's records; here another tenant's id is refused exactly like an id that does not exist.
 */
export async function assertReferencesVisible(
  tx: Tx,
  resource: AnyResource,
  values: Readonly<Rec>,
  ctx: ActionContext,
  scope: TenantScope,
  lookupResource: (name: string) => AnyResource,
): Promise<void> {
  for (const [name, rel] of Object.entries(resource.spec.relationships ?? {})) {
    if (rel.kind !== "belongs_to") continue;
    const value = values[rel.sourceField];
    if (value === undefined || value === null) continue;
    const target = lookupResource(rel.resource().name);
    const missing = new SondeError(
      "SONDE_VALIDATION_FAILED",
      `${rel.sourceField} refers to a ${target.name} that does not exist`,
      {
        pointer: `/data/attributes/${rel.sourceField}`,
        meta: { field: rel.sourceField, relationship: name },
      },
    );
    if (!validId(target, String(value))) throw missing;
    let filter: Filter;
    try {
      filter = authorize(target, defaultAction(target, "read"), ctx).filter;
    } catch {
      throw missing;
    }
    const lookup = () =>
      tx
        .select({ id: pkColumn(target) })
        .from(target.table)
        .where(
          and(
            eq(pkColumn(target), value),
            filterToSql(filter, fieldResolver(target, lookupResource), ctx.actor),
          ),
        )
        .limit(1);
    // The system actor reads every record of a global resource; under the application role, the
    // row-level security of some global tables ("user": members of this tenant only) would hide
    // exactly the record it is connecting (the user becoming a member). Tenant-scoped targets stay
    // under the tenant's row-level security for everyone.
    const found =
      ctx.actor.kind === "system" && target.tenancy === "global" && !scope.bypass
        ? await asRole(tx, SYSTEM_ROLE, APP_ROLE, lookup)
        : await lookup();
    if (found.length === 0) throw missing;
  }
}
