import { defineTrigger, type TriggerSpec } from "../../../kernel/triggers/index.js";
import { integrationSourceResource } from "../resources/integration-source.js";

/**
 * Every minute: each source whose schedule has come (`due`: scheduled, `next_sync_at` passed, not
 * running) is started by `start_scheduled`, which enqueues its sync job. One attempt: a source that
 * could not start is still due, and the next minute's scan tries again.
 */
export const startDueSyncs = defineTrigger({
  name: "integration_sync_due",
  resource: integrationSourceResource,
  action: "start_scheduled",
  where: { field: "due", op: "eq", value: true },
  cron: "* * * * *",
  maxAttempts: 1,
  description: "Starts the syncs of sources whose schedule has come.",
});

/**
 * Every five minutes: a source still running long after any sync job could have (`stale`: the
 * process running it died) is failed, with its run, so that it syncs again on schedule or on demand.
 */
export const failStaleSyncs = defineTrigger({
  name: "integration_sync_stale",
  resource: integrationSourceResource,
  action: "fail",
  where: { field: "stale", op: "eq", value: true },
  cron: "*/5 * * * *",
  maxAttempts: 1,
  description: "Fails syncs whose worker was lost.",
});

export const integrationTriggers: readonly TriggerSpec[] = [startDueSyncs, failStaleSyncs];
