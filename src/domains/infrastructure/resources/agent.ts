import { z } from "zod";
import { defineResource } from "../../../kernel/resource/define.js";
import type { ResourceRef } from "../../../kernel/resource/types.js";
import { componentIdSchema, slugSchema } from "../../../platform/fabric/contract.js";
import { agents } from "../infrastructure.schema.js";
import { membersRead, operatorsWriteAdminsDestroy, systemOnly } from "../../../kernel/policy/role-matrix.js";
import { seen } from "./heartbeat.js";
import { pollerResource } from "./poller.js";

const REGISTERED = [
  "component_id",
  "partition",
  "capabilities",
  "version",
  "host",
  "address",
  "last_heartbeat_at",
] as const;
const HEARTBEAT = ["partition", "capabilities", "version", "host", "address", "last_heartbeat_at"] as const;

/**
 * An agent of the polling fabric (it runs checks; a poller hands it work over gRPC), as the registry
 * reports it. The registry watcher registers it on its first heartbeat and moves it between
 * connected, degraded and unavailable; `disconnect` is for a poller that lost its connection.
 */
export const agentResource = defineResource({
  name: "agent",
  table: agents,
  tenancy: "tenant",
  attributes: {
    component_id: { schema: componentIdSchema },
    partition: { schema: slugSchema },
    capabilities: { schema: z.array(z.string().min(1).max(64)).max(64) },
    version: { schema: z.string().max(64).nullable() },
    host: { schema: z.string().max(255).nullable() },
    address: { schema: z.string().max(300).nullable() },
    status_reason: { schema: z.string().max(500).nullable() },
  },
  identities: { component_id: ["component_id"] },
  relationships: {
    poller: { kind: "belongs_to", resource: (): ResourceRef => pollerResource, sourceField: "poller_id" },
  },
  actions: {
    read: { type: "read" },
    create: {
      type: "create",
      accept: ["component_id", "partition", "poller_id", "address"],
      require: ["component_id"],
      description: "Declares an agent before it first reports; it stays connecting until it does.",
    },
    update: { type: "update", accept: ["partition", "poller_id", "address"] },
    destroy: { type: "destroy", description: "Forgets the agent and its checkers." },
    // What the registry watcher (and pollers, through core) do, as the system actor.
    register: {
      type: "create",
      accept: [...REGISTERED],
      require: ["component_id"],
      changes: [seen],
      event: "registered",
    },
    heartbeat: { type: "update", accept: [...HEARTBEAT], changes: [seen], event: false, auditSystem: false },
    connect: { type: "update", accept: ["status_reason"], event: "connected" },
    degrade: { type: "update", accept: ["status_reason"], event: "degraded" },
    disconnect: { type: "update", accept: ["status_reason"], event: "disconnected" },
    mark_unavailable: { type: "update", accept: ["status_reason"], event: "unavailable" },
  },
  stateMachine: {
    attribute: "status",
    initial: "connecting",
    states: ["connecting", "connected", "degraded", "disconnected", "unavailable"],
    transitions: [
      { action: "connect", from: ["connecting", "degraded", "disconnected", "unavailable"], to: "connected" },
      { action: "degrade", from: ["connecting", "connected"], to: "degraded" },
      { action: "disconnect", from: ["connecting", "connected", "degraded"], to: "disconnected" },
      {
        action: "mark_unavailable",
        from: ["connecting", "connected", "degraded", "disconnected"],
        to: "unavailable",
      },
    ],
  },
  policies: [
    ...membersRead,
    systemOnly("register", "heartbeat", "connect", "degrade", "disconnect", "mark_unavailable"),
    ...operatorsWriteAdminsDestroy,
  ],
  eventArea: "infra",
  description: "Agents of the polling fabric: registered from the bus registry, checked by their pollers.",
});
