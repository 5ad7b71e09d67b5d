import { and, eq } from "drizzle-orm";
import type { Logger } from "pino";
import { isSondeError } from "../../lib/errors.js";
import type { Orm } from "../../platform/db/types.js";
import type { Kernel } from "../kernel.js";
import { columnSchema } from "../pipeline/input.js";
import { inScope } from "../tenancy/transaction.js";
import { matchCondition, primaryKey, type TenantRef } from "./scan.js";
import type { ResolvedTrigger } from "./verify.js";

/**
 * One run job: one row of one tenant.
 *
 * The lock. The kernel runs the action in a transaction of its own, and a caller cannot hold a
 * transaction open around it (embedded PGlite has one connection, serialised per transaction: the
 * kernel's would wait for ours forever). So the worker works in two steps:
 *  1. claim: in the tenant's scope, `select pk … where pk = $id and <where and read policy>
 *     for update skip locked`. No row means deleted, invisible to this tenant (RLS: a job naming
 *     another tenant's row finds nothing), no longer matching, or being written right now by someone
 *     else; the job then completes without acting (a row that still matches is found by the next scan).
 *  2. act: `kernel.runAction(…)` as the system actor for that tenant, which locks the row again
 *     (`select … for update`), checks the policies against it, applies the state-machine guard
 *     (`update … where state = any(from)`), validates, writes, appends history and audit.
 * Between 1 and 2 another transaction may commit a change. What keeps that safe: the action runs with
 * the trigger's `where` as the kernel's guard, which the kernel checks on the row it has locked for the
 * write (SONDE_GUARD_FAILED, nothing written, when it no longer matches), alongside its own guards
 * (state, policies, validations). Trigger workers do not race each other on one row, because each row
 * has at most one waiting job (`short` policy keyed by row id) and pg-boss hands a job to one worker.
 * When the action fails, the row is claimed again: if it no longer matches, the failure came from a
 * concurrent change and the job completes instead of retrying.
 */

export type RunOutcome = "ran" | "skipped";

export interface RunDeps {
  readonly kernel: Kernel;
  readonly orm: Orm;
  readonly logger: Logger;
}

export interface RunOptions {
  /** This is the job's last attempt: on failure, run `onError` first. */
  readonly final: boolean;
}

/** As the kernel checks ids: payloads carry keys as text, so integer keys must look like integers. */
function validKey(t: ResolvedTrigger, id: string): boolean {
  const schema = columnSchema(primaryKey(t));
  return schema.safeParse(id).success || (/^\d{1,18}$/.test(id) && schema.safeParse(Number(id)).success);
}

/** Whether the row is there, matches, and nobody else holds it; the lock ends with the transaction. */
async function claim(deps: RunDeps, t: ResolvedTrigger, tenant: TenantRef, id: string): Promise<boolean> {
  const { condition, scope } = matchCondition(deps, t, tenant.id);
  const pk = primaryKey(t);
  const rows = await inScope(deps.orm, scope, (tx) =>
    tx
      .select({ id: pk })
      .from(t.resource.table)
      .where(and(eq(pk, id), condition))
      .for("update", { skipLocked: true }),
  );
  return rows.length > 0;
}

async function runOnError(deps: RunDeps, t: ResolvedTrigger, tenant: TenantRef, id: string, cause: unknown) {
  if (t.onError === undefined) return;
  const fields = { trigger: t.name, tenant: tenant.slug, id, onError: t.onError.name };
  try {
    await deps.kernel.runAction(t.resource, t.onError.name, { actor: t.actor, tenantId: tenant.id }, { id });
    deps.logger.warn({ ...fields, err: cause }, "trigger action failed on its last attempt; onError ran");
  } catch (err) {
    // The job still fails with the action's error, which is what an operator needs to see first.
    deps.logger.error({ ...fields, err, cause }, "trigger onError action failed too");
  }
}

/** Claims the row and runs the trigger's action on it; throws (for a retry) when the action fails. */
export async function runRow(
  deps: RunDeps,
  t: ResolvedTrigger,
  tenant: TenantRef,
  id: string,
  opts: RunOptions,
): Promise<RunOutcome> {
  const fields = { trigger: t.name, tenant: tenant.slug, id };
  if (!validKey(t, id)) {
    deps.logger.warn(fields, "trigger job names an id of the wrong type; skipped");
    return "skipped";
  }
  if (!(await claim(deps, t, tenant, id))) {
    deps.logger.debug(fields, "row gone, locked or no longer matching; skipped");
    return "skipped";
  }
  try {
    // The guard re-checks `where` under the kernel's own row lock: a row changed since the claim is
    // left alone (SONDE_GUARD_FAILED), so no part of the condition can go stale between the steps.
    await deps.kernel.runAction(
      t.resource,
      t.action.name,
      { actor: t.actor, tenantId: tenant.id },
      { id, guard: t.spec.where },
    );
    return "ran";
  } catch (err) {
    if (
      isSondeError(err, "SONDE_NOT_FOUND") ||
      isSondeError(err, "SONDE_GUARD_FAILED") ||
      !(await claim(deps, t, tenant, id))
    ) {
      deps.logger.debug({ ...fields, err }, "row changed while the action ran; skipped");
      return "skipped";
    }
    if (opts.final) await runOnError(deps, t, tenant, id, err);
    throw err;
  }
}
