import { z } from "zod";
import { defineResource } from "../../../kernel/resource/define.js";
import type { Change, ResourceRef } from "../../../kernel/resource/types.js";
import { checkers } from "../infrastructure.schema.js";
import { agentResource } from "./agent.js";
import { membersRead, operatorsWriteAdminsDestroy, systemOnly } from "../../../kernel/policy/role-matrix.js";

const outcomeArguments = z.object({
  success: z.boolean(),
  reason: z.string().max(1000).optional(),
  /** The run's due time (epoch ms): a result for a due time already counted changes nothing. */
  due_ms: z.number().int().nonnegative().optional(),
  response_time_ms: z.number().nonnegative().nullable().optional(),
  message: z.unknown().optional(),
});

/** The due time already counted, in epoch ms (-1: none). */
function countedDue(record: Readonly<Record<string, unknown>> | undefined): number {
  const v = record?.last_result_due_at;
  if (v === null || v === undefined) return -1;
  return v instanceof Date ? v.getTime() : Date.parse(String(v));
}

/**
 * One check result moves the counters: a success clears the failure streak, a failure extends it.
 * The state flip that may follow (active ↔ failing) is a transition of its own (see
 * checker-outcome.ts), since a transition's target is fixed and this action's is not.
 */
const countOutcome: Change = (values, ctx) => {
  const now = new Date();
  const due = typeof ctx.arguments.due_ms === "number" ? ctx.arguments.due_ms : undefined;
  // A result delivered twice, or one that arrives after a later run's: already counted.
  if (due !== undefined && due <= countedDue(ctx.record)) return values;
  const seen = {
    ...(due === undefined ? {} : { last_result_due_at: new Date(due) }),
    ...("response_time_ms" in ctx.arguments
      ? { last_response_time_ms: (ctx.arguments.response_time_ms as number | null | undefined) ?? null }
      : {}),
    ...("message" in ctx.arguments
      ? {
          last_result: {
            available: ctx.arguments.success === true,
            message: ctx.arguments.message ?? null,
            at: now.toISOString(),
          },
        }
      : {}),
  };
  if (ctx.arguments.success === true) {
    return { ...values, ...seen, consecutive_failures: 0, last_success_at: now, reason: null };
  }
  const failures = Number(ctx.record?.consecutive_failures ?? 0) + 1;
  const reason = typeof ctx.arguments.reason === "string" ? ctx.arguments.reason : "check failed";
  return { ...values, ...seen, consecutive_failures: failures, last_failure_at: now, reason };
};

/**
 * A checker: one named check an agent runs (`check_type`: icmp, tcp, http, dns, grpc, or a
 * ServiceRadar checker name). Results move it between active and failing after `failure_threshold`
 * consecutive failures; operators pause, resume, disable and enable it.
 */
export const checkerResource = defineResource({
  name: "checker",
  table: checkers,
  tenancy: "tenant",
  attributes: {
    name: { schema: z.string().trim().min(1).max(200) },
    check_type: { schema: z.string().regex(/^[a-z0-9_.-]{1,64}$/, "use a-z, 0-9, '_', '.' and '-'") },
    failure_threshold: { schema: z.number().int().min(1).max(100) },
    details: { schema: z.string().max(4096) },
    port: { schema: z.number().int().min(0).max(65535) },
    interval_seconds: { schema: z.number().int().min(1).max(86_400) },
    timeout_ms: { schema: z.number().int().min(100).max(300_000) },
  },
  identities: { agent_name: ["agent_id", "name"] },
  relationships: {
    agent: { kind: "belongs_to", resource: (): ResourceRef => agentResource, sourceField: "agent_id" },
  },
  actions: {
    read: { type: "read" },
    create: {
      type: "create",
      accept: [
        "agent_id",
        "name",
        "check_type",
        "failure_threshold",
        "details",
        "port",
        "interval_seconds",
        "timeout_ms",
      ],
      require: ["agent_id", "name", "check_type"],
    },
    update: {
      type: "update",
      accept: [
        "name",
        "check_type",
        "failure_threshold",
        "details",
        "port",
        "interval_seconds",
        "timeout_ms",
      ],
    },
    destroy: { type: "destroy" },
    pause: { type: "update", route: "pause", description: "Stops scheduling the check for now." },
    resume: { type: "update", route: "resume", description: "Schedules a paused check again." },
    disable: { type: "update", route: "disable", description: "Takes the check out until enabled." },
    enable: { type: "update", route: "enable", description: "Puts a disabled check back, active." },
    record_outcome: {
      type: "update",
      arguments: outcomeArguments,
      changes: [countOutcome],
      event: false,
      auditSystem: false,
      description: "Counts one result (system); see recordCheckerOutcome for the state flip.",
    },
    claim_due: {
      type: "update",
      bulk: true,
      event: false,
      auditSystem: false,
      description: "Claims the due checkers of a tenant for one scheduling round (system).",
    },
    mark_failing: { type: "update", event: "failing" },
    mark_passing: { type: "update", event: "passing" },
  },
  stateMachine: {
    attribute: "status",
    initial: "active",
    states: ["active", "paused", "failing", "disabled"],
    transitions: [
      { action: "pause", from: ["active", "failing"], to: "paused" },
      { action: "resume", from: ["paused"], to: "active" },
      { action: "disable", from: ["active", "paused", "failing"], to: "disabled" },
      { action: "enable", from: ["disabled"], to: "active" },
      { action: "mark_failing", from: ["active"], to: "failing" },
      { action: "mark_passing", from: ["failing"], to: "active" },
    ],
  },
  policies: [
    ...membersRead,
    systemOnly("record_outcome", "mark_failing", "mark_passing", "claim_due"),
    ...operatorsWriteAdminsDestroy,
  ],
  eventArea: "infra",
  description: "Checks agents run, with their failure streaks.",
});
