import { z } from "zod";
import { defineJob, type JobPayload } from "../../../platform/jobs/index.js";

export const SYNC_TRIGGERS = ["manual", "schedule"] as const;
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];

/**
 * One sync of one integration source: enqueued by the source's `sync` (an operator) and
 * `start_scheduled` (the schedule trigger) actions after they committed the source as running and
 * its run as started. Not retried: the clients retry their requests, and a failed sync is recorded
 * (source `failed`, run `failed`) for an operator to look at, or for the next scheduled run. It may
 * run for an hour; past that, pg-boss aborts its signal and the sync fails.
 */
export const integrationSyncJob = defineJob("integration.sync", {
  payload: z.object({
    tenantId: z.uuid(),
    sourceId: z.uuid(),
    runId: z.uuid(),
    trigger: z.enum(SYNC_TRIGGERS),
  }),
  retryLimit: 0,
  expireInSeconds: 60 * 60,
});

export type IntegrationSyncPayload = JobPayload<typeof integrationSyncJob>;
