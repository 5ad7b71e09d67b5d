export { deadLetterName, queueName } from "./names.js";
export { createJobQueue, type JobQueueOptions } from "./queue.js";
export { type NamedJobSender, namedJobSender } from "./sender.js";
export {
  type AnyJobDefinition,
  defineJob,
  type JobDefinition,
  type JobInput,
  type JobPayload,
  type JobPayloads,
  type JobSpec,
  type QueuePolicy,
} from "./registry.js";
export type {
  DeadLetter,
  JobContext,
  JobHandler,
  JobQueue,
  JobStats,
  QueueInfo,
  QueueScope,
  ScheduleInfo,
  ScheduleOptions,
  SendOptions,
  StopOptions,
  WorkerHandle,
  WorkOptions,
} from "./types.js";
