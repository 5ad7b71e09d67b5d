import { type SQL, sql } from "drizzle-orm";
import type { Orm } from "../../platform/db/types.js";
import { APP_ROLE, SYSTEM_ROLE } from "./rls.js";

export type Tx = Parameters<Parameters<Orm["transaction"]>[0]>[0];

/**
 * Whose rows a transaction may see. `tenantId` narrows row-level security to one tenant; `bypass`
 * crosses tenants and is only ever set by the kernel for the system actor or an audited super user.
 */
export interface TenantScope {
  readonly tenantId: string | null;
  readonly bypass: boolean;
}

/**
 * Runs `fn` in one transaction as the application role (or, to cross tenants, the system role) with
 * the tenant set for that transaction only (`set_config(…, true)` is `SET LOCAL`: nothing leaks to the
 * next user of the pooled connection). One statement sets both, so the scope costs one round trip.
 */
export async function inScope<T>(orm: Orm, scope: TenantScope, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return orm.transaction(async (tx) => {
    await tx.execute(
      sql`select set_config('role', ${scope.bypass ? SYSTEM_ROLE : APP_ROLE}, true), set_config('app.tenant_id', ${scope.tenantId ?? ""}, true)`,
    );
    return fn(tx);
  });
}

/**
 * Runs `fn` inside the transaction as `role`, then switches back to `back`. For the kernel's own
 * narrow lookups only (see Kernel.assertReferencesVisible); a failing `fn` aborts the transaction.
 */
export async function asRole<T>(tx: Tx, role: string, back: string, fn: () => Promise<T>): Promise<T> {
  await tx.execute(sql`select set_config('role', ${role}, true)`);
  const result = await fn();
  await tx.execute(sql`select set_config('role', ${back}, true)`);
  return result;
}

/**
 * Runs raw SQL in a transaction and returns its rows. Both drivers answer `{ rows }`; drizzle's shared
 * type cannot say so across them, hence the one narrowing here.
 */
export async function queryRows<Row extends Record<string, unknown>>(tx: Tx, query: SQL): Promise<Row[]> {
  const result = (await tx.execute(query)) as { rows?: unknown };
  return Array.isArray(result.rows) ? (result.rows as Row[]) : [];
}
