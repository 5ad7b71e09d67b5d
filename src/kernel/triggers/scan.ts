import { and, asc, eq, gt, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type { Logger } from "pino";
import { SondeError } from "../../lib/errors.js";
import type { Orm } from "../../platform/db/types.js";
import type { JobQueue } from "../../platform/jobs/index.js";
import { and as allOf } from "../filter.js";
import type { Kernel } from "../kernel.js";
import { tenants } from "../kernel.schema.js";
import { authorize } from "../pipeline/authorize.js";
import { fieldResolver } from "../pipeline/projection.js";
import { filterToSql } from "../sql/filter-sql.js";
import { inScope, type Tx } from "../tenancy/transaction.js";
import { type TriggerJobDefinition, triggerJobs } from "./jobs.js";
import type { ResolvedTrigger } from "./verify.js";

export interface TenantRef {
  readonly id: string;
  readonly slug: string;
}

export interface ScanResult {
  readonly tenants: number;
  /** Matching rows seen. */
  readonly matched: number;
  /** Run jobs created; fewer than matched when a row already had one waiting. */
  readonly enqueued: number;
}

export interface ScanDeps {
  readonly kernel: Kernel;
  readonly orm: Orm;
  readonly jobs: JobQueue<TriggerJobDefinition>;
  readonly logger: Logger;
}

const TENANT_PAGE = 100;

/**
 * Every tenant, in pages by id. Read in a transaction with no tenant and no bypass: `tenants` is a
 * global table, and nothing tenant-scoped is visible from that scope.
 */
export async function* allTenants(orm: Orm): AsyncGenerator<TenantRef> {
  let last: string | undefined;
  for (;;) {
    const page = await inScope(orm, { tenantId: null, bypass: false }, (tx) =>
      tx
        .select({ id: tenants.id, slug: tenants.slug })
        .from(tenants)
        .where(last === undefined ? undefined : gt(tenants.id, last))
        .orderBy(asc(tenants.id))
        .limit(TENANT_PAGE),
    );
    yield* page;
    const tail = page.at(-1);
    if (page.length < TENANT_PAGE || tail === undefined) return;
    last = tail.id;
  }
}

export async function tenantBySlug(orm: Orm, slug: string): Promise<TenantRef | undefined> {
  const rows = await inScope(orm, { tenantId: null, bypass: false }, (tx) =>
    tx.select({ id: tenants.id, slug: tenants.slug }).from(tenants).where(eq(tenants.slug, slug)),
  );
  return rows[0];
}

/** The primary-key column, which verification guaranteed exists. */
export function primaryKey(t: ResolvedTrigger): PgColumn {
  const pk = t.resource.columns.get(t.resource.primaryKey);
  if (pk === undefined)
    throw new SondeError("SONDE_INTERNAL", `${t.resource.name} has no primary key column`);
  return pk;
}

/**
 * The trigger's condition for one tenant as SQL: `where` and the read action's policy filter for the
 * trigger's system actor, with the transaction scope that goes with it (the tenant's RLS, no bypass).
 */
export function matchCondition(deps: Pick<ScanDeps, "kernel">, t: ResolvedTrigger, tenantId: string) {
  const auth = authorize(t.resource, t.readAction, { actor: t.actor, tenantId });
  const resolve = fieldResolver(t.resource, (name) => deps.kernel.resource(name));
  const condition: SQL = filterToSql(allOf(auth.filter, t.spec.where), resolve, t.actor);
  return { condition, scope: auth.scope };
}

async function matchingPage(tx: Tx, t: ResolvedTrigger, condition: SQL, after: unknown): Promise<unknown[]> {
  const pk = primaryKey(t);
  const rows = await tx
    .select({ id: pk })
    .from(t.resource.table)
    .where(after === undefined ? condition : and(condition, gt(pk, after)))
    .orderBy(asc(pk))
    .limit(t.batchSize);
  return rows.map((r) => r.id);
}

/**
 * One tenant's share of a scan: keyset pages of matching primary keys, each page in its own short
 * transaction (no lock is held between pages; a row that starts matching behind the cursor is found
 * by the next scan), one run job per row on the tenant's queue. The row id is the job's singleton
 * key: a row whose job is still waiting is not enqueued twice.
 */
export async function scanTenant(deps: ScanDeps, t: ResolvedTrigger, tenant: TenantRef): Promise<ScanResult> {
  const { condition, scope } = matchCondition(deps, t, tenant.id);
  const run = triggerJobs(t.spec).run;
  let after: unknown;
  let matched = 0;
  let enqueued = 0;
  for (;;) {
    const ids = await inScope(deps.orm, scope, (tx) => matchingPage(tx, t, condition, after));
    matched += ids.length;
    for (const id of ids) {
      const key = String(id);
      const job = await deps.jobs.send(run, { id: key }, { tenant: tenant.slug, singletonKey: key });
      if (job !== null) enqueued += 1;
    }
    if (ids.length < t.batchSize) break;
    after = ids.at(-1);
  }
  return { tenants: 1, matched, enqueued };
}

/**
 * A whole scan: every tenant in turn. A tenant that fails is logged and the scan goes on with the
 * others; the scan then fails (so its job shows as failed) naming how many tenants it could not scan.
 */
export async function scanAll(
  deps: ScanDeps,
  t: ResolvedTrigger,
  onTenant: (tenant: TenantRef) => Promise<void>,
): Promise<ScanResult> {
  let total: ScanResult = { tenants: 0, matched: 0, enqueued: 0 };
  const failed: string[] = [];
  for await (const tenant of allTenants(deps.orm)) {
    try {
      await onTenant(tenant);
      const one = await scanTenant(deps, t, tenant);
      total = {
        tenants: total.tenants + 1,
        matched: total.matched + one.matched,
        enqueued: total.enqueued + one.enqueued,
      };
    } catch (err) {
      failed.push(tenant.slug);
      deps.logger.error({ err, trigger: t.name, tenant: tenant.slug }, "trigger scan failed for a tenant");
    }
  }
  deps.logger.debug({ trigger: t.name, ...total }, "trigger scan done");
  if (failed.length > 0) {
    throw new SondeError("SONDE_INTERNAL", `trigger ${t.name}: scan failed for ${failed.length} tenant(s)`, {
      meta: { trigger: t.name, tenants: failed.slice(0, 20) },
    });
  }
  return total;
}
