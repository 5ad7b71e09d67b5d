import { sql } from "drizzle-orm";
import { z } from "zod";
import { tenants } from "../../../kernel/kernel.schema.js";
import { defineResource } from "../../../kernel/resource/define.js";
import type { Change } from "../../../kernel/resource/types.js";
import { componentIdSchema, slugSchema } from "../../../platform/fabric/contract.js";
import { pollers, type PollerIntent } from "../infrastructure.schema.js";
import { writeControl } from "./control.js";
import { seen } from "./heartbeat.js";
import { membersRead, operatorsWriteAdminsDestroy, systemOnly } from "../../../kernel/policy/role-matrix.js";

/** Operator actions take an optional reason, kept as the status reason. */
const operatorArguments = z.object({ reason: z.string().trim().min(1).max(500).optional() });

/** An operator action records the intent the poller is told and why. */
function intent(mode: PollerIntent, verb: string): Change {
  return (values, ctx) => {
    const reason = typeof ctx.arguments.reason === "string" ? ctx.arguments.reason : undefined;
    return { ...values, intent: mode, status_reason: reason ?? `${verb} by an operator` };
  };
}

const REGISTERED = [
  "component_id",
  "partition",
  "capabilities",
  "version",
  "host",
  "last_heartbeat_at",
] as const;
const HEARTBEAT = ["partition", "capabilities", "version", "host", "last_heartbeat_at"] as const;

/** Where the watcher and the sweep may take a poller; never from an operator's maintenance. */
const RUNNING = ["healthy", "recovering", "degraded"];

/**
 * A poller of the polling fabric, as the registry reports it (docs/infrastructure.md). The registry
 * watcher registers pollers on their first heartbeat and moves them through the lifecycle; operators
 * put them in maintenance, drain them and resume them, which also tells the poller through its
 * `sonde-control` key. Operators may also declare a poller before it first reports (`inactive`).
 */
export const pollerResource = defineResource({
  name: "poller",
  table: pollers,
  tenancy: "tenant",
  attributes: {
    component_id: { schema: componentIdSchema },
    partition: { schema: slugSchema },
    capabilities: { schema: z.array(z.string().min(1).max(64)).max(64) },
    version: { schema: z.string().max(64).nullable() },
    host: { schema: z.string().max(255).nullable() },
    status_reason: { schema: z.string().max(500).nullable() },
  },
  identities: { component_id: ["component_id"] },
  calculations: {
    registry_key: {
      type: "string",
      description: "The poller's key in the sonde-registry and sonde-control buckets.",
      sql: (t) =>
        sql`(select ${tenants.slug} from ${tenants} where ${tenants.id} = ${t.tenant_id}) || '.poller.' || ${t.partition} || '.' || ${t.component_id}`,
    },
  },
  actions: {
    read: { type: "read" },
    create: {
      type: "create",
      accept: ["component_id", "partition"],
      require: ["component_id"],
      description: "Declares a poller before it first reports; it stays inactive until it does.",
    },
    update: { type: "update", accept: ["partition"] },
    destroy: { type: "destroy", description: "Forgets the poller; a live one registers again." },
    maintenance: {
      type: "update",
      route: "maintenance",
      arguments: operatorArguments,
      changes: [intent("maintenance", "put in maintenance")],
      afterCommit: writeControl,
      description: "Takes the poller out of service; heartbeats no longer change its state.",
    },
    drain: {
      type: "update",
      route: "drain",
      arguments: operatorArguments,
      changes: [intent("draining", "drained")],
      afterCommit: writeControl,
      description: "The poller finishes what it has and takes no new work.",
    },
    resume: {
      type: "update",
      route: "resume",
      arguments: operatorArguments,
      changes: [intent("active", "resumed")],
      afterCommit: writeControl,
      description: "Back in service: recovering, then healthy on its next heartbeat.",
    },
    // What the registry watcher does, as the system actor.
    register: {
      type: "create",
      accept: [...REGISTERED],
      require: ["component_id"],
      changes: [seen],
      event: "registered",
    },
    heartbeat: { type: "update", accept: [...HEARTBEAT], changes: [seen], event: false, auditSystem: false },
    activate: { type: "update", accept: ["status_reason"], event: "healthy" },
    recover: { type: "update", accept: ["status_reason"], event: "recovering" },
    heal: { type: "update", accept: ["status_reason"], event: "healthy" },
    degrade: { type: "update", accept: ["status_reason"], event: "degraded" },
    go_offline: { type: "update", accept: ["status_reason"], event: "offline" },
    mark_draining: { type: "update", accept: ["status_reason"], event: "draining" },
  },
  stateMachine: {
    attribute: "status",
    initial: "inactive",
    states: ["inactive", "healthy", "degraded", "offline", "recovering", "maintenance", "draining"],
    transitions: [
      { action: "activate", from: ["inactive"], to: "healthy" },
      { action: "recover", from: ["offline", "degraded", "draining"], to: "recovering" },
      { action: "heal", from: ["recovering"], to: "healthy" },
      { action: "degrade", from: ["healthy", "recovering"], to: "degraded" },
      { action: "go_offline", from: [...RUNNING, "draining"], to: "offline" },
      { action: "mark_draining", from: [...RUNNING, "offline", "inactive"], to: "draining" },
      {
        action: "maintenance",
        from: ["inactive", "healthy", "degraded", "offline", "recovering", "draining"],
        to: "maintenance",
      },
      { action: "drain", from: ["inactive", ...RUNNING, "offline"], to: "draining" },
      { action: "resume", from: ["maintenance", "draining"], to: "recovering" },
    ],
  },
  policies: [
    ...membersRead,
    systemOnly(
      "register",
      "heartbeat",
      "activate",
      "recover",
      "heal",
      "degrade",
      "go_offline",
      "mark_draining",
    ),
    ...operatorsWriteAdminsDestroy,
  ],
  eventArea: "infra",
  description: "Pollers of the polling fabric: registered from the bus registry, drained by operators.",
});
