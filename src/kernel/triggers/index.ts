export { cronProblem, nextCronTime } from "./cron.js";
export type { RunOutcome } from "./execute.js";
export {
  type TriggerJobDefinition,
  type TriggerJobs,
  triggerJobDefinitions,
  triggerJobs,
  type TriggerRunJob,
  type TriggerScanJob,
} from "./jobs.js";
export type { ScanResult, TenantRef } from "./scan.js";
export { createTriggerRunner, type TriggerRunner, type TriggerRunnerOptions } from "./scheduler.js";
export { defineTrigger, TRIGGER_DEFAULTS, type TriggerSpec } from "./types.js";
export { checkTriggerSpec, type ResolvedTrigger, verifyTriggers } from "./verify.js";
