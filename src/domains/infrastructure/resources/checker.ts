import { z } from "zod";
import { defineResource } from "../../../kernel/resource/define.js";
import type { Change, ResourceRef } from "../../../kernel/resource/types.js";
import { checkers } from "../infrastructure.schema.js";
import { agentResource } from "./agent.js";
import { membersRead, operatorsWriteAdminsDestroy, systemOnly } from "./policies.js";

const outcomeArguments = z.object({
  success: z.boolean(),
  reason: z.string().max(1000).optional(),
});

/**
 * One check result moves the counters: a success clears the failure streak, a failure extends it.
 * The state flip that may follow (active ↔ failing) is a transition of its own (see
 * checker-outcome.ts), since a transition's target is fixed and this action's is not.
 */
const countOutcome: Change = (values, ctx) => {
  const now = new Date();
  if (ctx.arguments.success === true) {
    return { ...values, consecutive_failures: 0, last_success_at: now, reason: null };
  }
  const failures = Number(ctx.record?.consecutive_failures ?? 0) + 1;
  const reason = typeof ctx.arguments.reason === "string" ? ctx.arguments.reason : "check failed";
  return { ...values, consecutive_failures: failures, last_failure_at: now, reason };
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
  },
  identities: { agent_name: ["agent_id", "name"] },
  relationships: {
    agent: { kind: "belongs_to", resource: (): ResourceRef => agentResource, sourceField: "agent_id" },
  },
  actions: {
    read: { type: "read" },
    create: {
      type: "create",
      accept: ["agent_id", "name", "check_type", "failure_threshold"],
      require: ["agent_id", "name", "check_type"],
    },
    update: { type: "update", accept: ["name", "check_type", "failure_threshold"] },
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
      description: "Counts one result (system); see recordCheckerOutcome for the state flip.",
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
    systemOnly("record_outcome", "mark_failing", "mark_passing"),
    ...operatorsWriteAdminsDestroy,
  ],
  eventArea: "infra",
  description: "Checks agents run, with their failure streaks.",
});
