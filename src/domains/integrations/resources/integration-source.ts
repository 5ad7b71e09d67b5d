import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { SondeError } from "../../../lib/errors.js";
import {
  actionName,
  actionType,
  authorizeIf,
  bypass,
  isSystemActor,
  policy,
  roleAtLeast,
} from "../../../kernel/policy/checks.js";
import { defineResource } from "../../../kernel/resource/define.js";
import type { AfterCommitEvent, Change, ResourceRef, Validation } from "../../../kernel/resource/types.js";
import { endpointSchema } from "../endpoint.js";
import { INTEGRATION_KINDS, integrationSources, SYNC_STATUSES } from "../integrations.schema.js";
import { nextSyncAt, scheduleSchema } from "../schedule.js";
import { integrationSyncJob, type SyncTrigger } from "../sync/job.js";
import { integrationRunResource } from "./integration-run.js";
import { recordFailure, recordProgress, recordSuccess, startRun } from "./run-records.js";
import { failArguments, finishArguments, progressArguments } from "./sync-arguments.js";

/** A sync still running this long after it started lost its worker (the job runs an hour at most). */
export const STALE_SYNC_INTERVAL = "2 hours";
/** The error a stale sync is failed with, when no worker reported one. */
export const STALE_SYNC_ERROR = "the sync stopped without reporting back (its worker was lost)";

/** A new schedule (or none) moves when the source is next due. */
const scheduleNextSync: Change = (values) =>
  "schedule" in values ? { ...values, next_sync_at: nextSyncAt(values.schedule) } : values;

const touched: Change = (values) => ({ ...values, updated_at: new Date() });

/** Starting a sync numbers its run (output `run_id`, for the caller, the run record and the job). */
const beginRun: Change = (values, ctx) => {
  const runId = randomUUID();
  ctx.output.set("run_id", runId);
  return {
    ...values,
    last_sync_started_at: new Date(),
    sync_seen: 0,
    sync_total: null,
    updated_at: new Date(),
  };
};

const progress: Change = (values, ctx) => {
  const a = progressArguments.parse(ctx.arguments);
  return { ...values, sync_seen: a.seen, sync_total: a.total ?? null };
};

/** After a run, success or not, the schedule counts from now: a long sync does not queue up another. */
const finished: Change = (values, ctx) => ({
  ...values,
  last_sync_finished_at: new Date(),
  next_sync_at: nextSyncAt(ctx.record?.schedule),
  updated_at: new Date(),
});

const succeeded: Change = (values, ctx) => {
  const { run_id, ...result } = finishArguments.parse(ctx.arguments);
  return {
    ...values,
    sync_seen: result.seen,
    sync_total: result.total ?? null,
    last_sync_error: null,
    last_sync_result: { ...result, run_id },
  };
};

const failed: Change = (values, ctx) => {
  const a = failArguments.parse(ctx.arguments);
  return { ...values, last_sync_error: a.error ?? STALE_SYNC_ERROR };
};

const whileRunning: Validation = (_values, ctx) =>
  ctx.record?.status === "running" ? undefined : { field: "status", message: "the source is not syncing" };

/** After the start committed: the sync job, on the queue core gave the kernel (KernelServices.jobs). */
function enqueueSync(trigger: SyncTrigger) {
  return async (event: AfterCommitEvent): Promise<undefined> => {
    const jobs = event.services.jobs;
    if (jobs === undefined) {
      throw new SondeError("SONDE_JOB_QUEUE_NOT_RUNNING", "no job queue to run integration syncs on");
    }
    await jobs.send(integrationSyncJob.name, {
      tenantId: event.tenantId,
      sourceId: event.record.id,
      runId: event.output.get("run_id"),
      trigger,
    });
    return undefined;
  };
}

const EDITABLE = ["name", "endpoint", "credentials", "partition", "schedule", "query", "page_size"] as const;

/**
 * A source of devices for the inventory: an Armis or NetBox API, its credentials (encrypted at rest,
 * never returned: write-only), the partition its devices belong to, and an optional schedule. Syncs
 * run as jobs; the status is a small state machine: idle|success|failed → running (an operator's
 * `sync`, or the schedule's `start_scheduled`) → success (`finish`) or failed (`fail`), with progress
 * (`sync_seen` of `sync_total`) reported by the runner as it pages. Each run is recorded
 * (integration_run). See docs/integrations.md.
 */
export const integrationSourceResource = defineResource({
  name: "integration_source",
  table: integrationSources,
  tenancy: "tenant",
  attributes: {
    name: { schema: z.string().trim().min(1).max(100) },
    kind: { schema: z.enum(INTEGRATION_KINDS) },
    endpoint: { schema: endpointSchema },
    credentials: { sensitive: true, encrypted: true, schema: z.string().min(1).max(4096) },
    partition: { schema: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/) },
    schedule: { schema: scheduleSchema },
    query: { schema: z.string().trim().max(2000).nullable() },
    page_size: { schema: z.number().int().min(1).max(1000) },
    status: { schema: z.enum(SYNC_STATUSES) },
  },
  relationships: {
    runs: {
      kind: "has_many",
      resource: (): ResourceRef => integrationRunResource,
      destinationField: "source_id",
    },
  },
  calculations: {
    due: {
      type: "boolean",
      description: "Scheduled, its time has come, and not syncing now: the schedule trigger starts it.",
      sql: (t) =>
        sql`(${t.schedule} is not null and ${t.next_sync_at} <= now() and ${t.status} <> 'running')`,
    },
    stale: {
      type: "boolean",
      description: `Running for more than ${STALE_SYNC_INTERVAL}: its worker was lost; a trigger fails it.`,
      sql: (t) =>
        sql`(${t.status} = 'running' and ${t.last_sync_started_at} < now() - interval '${sql.raw(STALE_SYNC_INTERVAL)}')`,
    },
  },
  actions: {
    read: { type: "read" },
    create: {
      type: "create",
      accept: ["kind", ...EDITABLE],
      require: ["name", "kind", "endpoint", "credentials"],
      changes: [scheduleNextSync],
      description: "Adds a source (admins). The credentials are stored encrypted and never returned.",
    },
    update: {
      type: "update",
      accept: [...EDITABLE],
      changes: [scheduleNextSync, touched],
      description: "Edits a source (admins); new credentials replace the old, unseen.",
    },
    destroy: { type: "destroy", description: "Removes the source and its runs; its devices stay." },
    sync: {
      type: "update",
      route: "sync",
      changes: [beginRun],
      within: startRun("manual"),
      afterCommit: enqueueSync("manual"),
      output: ["run_id"],
      description: "Starts a sync now (operators); `meta.run_id` names its run.",
    },
    start_scheduled: {
      type: "update",
      changes: [beginRun],
      within: startRun("schedule"),
      afterCommit: enqueueSync("schedule"),
      description: "Starts a scheduled sync (the schedule trigger, as the system).",
    },
    progress: {
      type: "update",
      arguments: progressArguments,
      validations: [whileRunning],
      changes: [progress],
      within: recordProgress,
      description: "Reports how far a running sync got (the runner, as the system).",
    },
    finish: {
      type: "update",
      arguments: finishArguments,
      changes: [succeeded, finished],
      within: recordSuccess,
      description: "Ends a sync that succeeded, with its counts (the runner, as the system).",
    },
    fail: {
      type: "update",
      arguments: failArguments,
      changes: [failed, finished],
      within: recordFailure,
      description: "Ends a sync that failed, with its error (the runner or the stale-sync trigger).",
    },
  },
  stateMachine: {
    attribute: "status",
    initial: "idle",
    states: [...SYNC_STATUSES],
    transitions: [
      { action: "sync", from: ["idle", "success", "failed"], to: "running" },
      { action: "start_scheduled", from: ["idle", "success", "failed"], to: "running" },
      { action: "finish", from: ["running"], to: "success" },
      { action: "fail", from: ["running"], to: "failed" },
    ],
  },
  policies: [
    // The runner and the triggers; the system-only actions (start_scheduled, progress, finish, fail)
    // have no other policy, so no user may run them.
    bypass(isSystemActor()),
    policy(actionType("read"), authorizeIf(roleAtLeast("viewer"))),
    policy(actionName("create", "update", "destroy"), authorizeIf(roleAtLeast("admin"))),
    policy(actionName("sync"), authorizeIf(roleAtLeast("operator"))),
  ],
  events: true,
  description: "Armis and NetBox APIs that feed the inventory, with their schedules and sync status.",
});
