import { z } from "zod";
import { subjectFor } from "../bus/subjects.js";

/**
 * The polling fabric's wire contract: what pollers and agents put in the registry bucket, and what
 * core, pollers and agents exchange over the bus. Core, pollers and agents may run different builds,
 * so every message is parsed with these schemas on arrival and unknown fields are ignored.
 */

/** The registry bucket: one key per poller or agent, refreshed on every heartbeat. */
export const REGISTRY_BUCKET = "sonde-registry";
/** Heartbeat period; the bucket's TTL is REGISTRY_TTL_HEARTBEATS of them (NATS 2.9 has no per-key TTL). */
export const HEARTBEAT_MS = 5_000;
export const REGISTRY_TTL_HEARTBEATS = 3;

/** Tenant and partition slugs become subject and key tokens. */
export const slugSchema = z.string().regex(/^[a-z0-9_-]{1,63}$/, "use a-z, 0-9, '_' and '-' (at most 63)");
/** Component ids become a key token too. */
export const componentIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, "use letters, digits, '_' and '-'");

export const COMPONENT_KINDS = ["poller", "agent"] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

/** Check capabilities an agent may offer (and dispatched work may need). */
export const CAPABILITIES = ["icmp", "tcp", "http", "dns", "grpc"] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const registryEntrySchema = z.object({
  kind: z.enum(COMPONENT_KINDS),
  tenant: slugSchema,
  partition: slugSchema,
  id: componentIdSchema,
  capabilities: z.array(z.string().min(1).max(64)).max(64),
  version: z.string().max(64),
  host: z.string().max(255),
  /** Agents: where their gRPC `monitoring.AgentService` listens (`host:port`). */
  address: z.string().max(300).optional(),
  /** `draining`: finishes what it has and takes no new work. */
  mode: z.enum(["active", "draining"]).default("active"),
  startedAt: z.string().datetime(),
  heartbeatAt: z.string().datetime(),
});
export type RegistryEntry = z.infer<typeof registryEntrySchema>;

/** `<tenant>.<kind>.<partition>.<id>`: one token each, so watchers can filter by tenant or kind. */
export function registryKey(e: Pick<RegistryEntry, "tenant" | "kind" | "partition" | "id">): string {
  return `${e.tenant}.${e.kind}.${e.partition}.${e.id}`;
}

/** Work for a partition: `sonde.<tenant>.dispatch.<partition>`, answered by one poller of its queue group. */
export function dispatchSubject(tenant: string, partition: string): string {
  return subjectFor(tenant, "dispatch", partition);
}
export const DISPATCH_QUEUE = "pollers";

/** What an agent should run; `service_type`/`details`/`port` follow monitoring.AgentService's StatusRequest. */
export const workItemSchema = z.object({
  /** Unique per due time: a work id is run at most once (pollers and core deduplicate on it). */
  id: z.string().min(1).max(200),
  tenant: slugSchema,
  partition: slugSchema,
  capability: z.string().min(1).max(64),
  service_name: z.string().max(255),
  service_type: z.string().max(64),
  details: z.string().max(4096),
  port: z.number().int().min(0).max(65535).default(0),
  timeout_ms: z.number().int().positive().max(300_000).default(5_000),
  attempt: z.number().int().min(1).default(1),
  /** Run by this agent of the partition (a checker belongs to one); absent: any agent able to. */
  agent_id: componentIdSchema.optional(),
});
export type WorkItem = z.infer<typeof workItemSchema>;

export const dispatchReplySchema = z.discriminatedUnion("accepted", [
  z.object({ accepted: z.literal(true), poller_id: componentIdSchema }),
  z.object({
    accepted: z.literal(false),
    poller_id: componentIdSchema,
    /** `busy`: the poller has its limit of work in flight; another poller of the group may take it. */
    reason: z.enum(["draining", "maintenance", "no_agent", "invalid", "wrong_partition", "busy"]),
    message: z.string().max(1000),
  }),
]);
export type DispatchReply = z.infer<typeof dispatchReplySchema>;

/** Several work items of one tenant partition in one dispatch request (core coalesces what is due together). */
export const dispatchBatchSchema = z.object({ items: z.array(workItemSchema).min(1).max(256) });
export type DispatchBatch = z.infer<typeof dispatchBatchSchema>;

/** The answer to a batch: one reply per item, in the batch's order. */
export const dispatchBatchReplySchema = z.object({
  poller_id: componentIdSchema,
  replies: z.array(dispatchReplySchema),
});
export type DispatchBatchReply = z.infer<typeof dispatchBatchReplySchema>;

/** Results flow back to core on `sonde.<tenant>.results.<partition>` (the SONDE_RESULTS stream). */
export function resultSubject(tenant: string, partition: string): string {
  return subjectFor(tenant, "results", partition);
}

export const workResultSchema = z.object({
  work_id: z.string().min(1).max(200),
  tenant: slugSchema,
  partition: slugSchema,
  poller_id: componentIdSchema,
  agent_id: componentIdSchema.nullable(),
  available: z.boolean(),
  /** The agent's StatusResponse.message, parsed (JSON), or an error description. */
  message: z.unknown(),
  response_time_ns: z.number().int().min(0),
  error: z.string().max(2000).nullable(),
  completed_at: z.string().datetime(),
});
export type WorkResult = z.infer<typeof workResultSchema>;

/**
 * Operator intent for a poller, written by core (maintenance, drain, resume) and watched by the
 * poller: `<tenant>.poller.<partition>.<id>` like the registry, but in a bucket without TTL.
 */
export const CONTROL_BUCKET = "sonde-control";
export const controlSchema = z.object({
  mode: z.enum(["active", "draining", "maintenance"]),
  changedAt: z.string().datetime(),
  actor: z.string().max(200),
});
export type ControlEntry = z.infer<typeof controlSchema>;

/** Several results of one tenant partition in one stream message (pollers batch what completes together). */
export const resultBatchSchema = z.object({
  results: z.array(workResultSchema).min(1).max(500),
});
export type ResultBatch = z.infer<typeof resultBatchSchema>;
