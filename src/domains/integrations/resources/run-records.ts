import { and, eq, type SQL } from "drizzle-orm";
import { SondeError } from "../../../lib/errors.js";
import type { WithinEvent } from "../../../kernel/resource/types.js";
import { integrationRuns } from "../integrations.schema.js";
import type { SyncTrigger } from "../sync/job.js";
import { failArguments, progressArguments, type RunCounts } from "./sync-arguments.js";

/**
 * A source's sync transitions write its run record in the same transaction (the actions' `within`),
 * so that a source and its run never disagree: the source is running exactly while its run is, and
 * both end together. Runs are read-only resources; these are their only writers.
 */

/** The counts given (a failure may come with none); `total` may be null: the source did not say. */
function counts(c: Partial<RunCounts>) {
  const out: { seen?: number; created?: number; updated?: number; merged?: number; rejected?: number } = {};
  for (const key of ["seen", "created", "updated", "merged", "rejected"] as const) {
    const value = c[key];
    if (value !== undefined) out[key] = value;
  }
  return c.total === undefined ? out : { ...out, total: c.total };
}

function sourceId(event: WithinEvent): string {
  return String(event.record.id);
}

/** The run a running source is on: this one (when named) of this source, still running. */
function runningRun(event: WithinEvent, runId: string | undefined): SQL | undefined {
  return and(
    eq(integrationRuns.source_id, sourceId(event)),
    eq(integrationRuns.status, "running"),
    runId === undefined ? undefined : eq(integrationRuns.id, runId),
  );
}

/** `sync` and `start_scheduled`: the run the change numbered (output `run_id`) starts. */
export function startRun(trigger: SyncTrigger) {
  return async (event: WithinEvent): Promise<void> => {
    const runId = event.output.get("run_id");
    if (typeof runId !== "string" || event.tenantId === null) {
      throw new SondeError("SONDE_INTERNAL", "a sync starts in a tenant, with a run id");
    }
    await event.tx.insert(integrationRuns).values({
      id: runId,
      tenant_id: event.tenantId,
      source_id: sourceId(event),
      trigger,
      status: "running",
    });
  };
}

export async function recordProgress(event: WithinEvent): Promise<void> {
  const a = progressArguments.parse(event.arguments);
  await event.tx.update(integrationRuns).set(counts(a)).where(runningRun(event, a.run_id));
}

export async function recordSuccess(event: WithinEvent): Promise<void> {
  const a = progressArguments.parse(event.arguments);
  await event.tx
    .update(integrationRuns)
    .set({ ...counts(a), status: "success", finished_at: new Date() })
    .where(runningRun(event, a.run_id));
}

/** Fails the named run, or (stale-sync trigger) whichever run of the source is still running. */
export async function recordFailure(event: WithinEvent): Promise<void> {
  const a = failArguments.parse(event.arguments);
  const error = typeof event.record.last_sync_error === "string" ? event.record.last_sync_error : null;
  await event.tx
    .update(integrationRuns)
    .set({ ...counts(a), status: "failed", error, finished_at: new Date() })
    .where(runningRun(event, a.run_id));
}
