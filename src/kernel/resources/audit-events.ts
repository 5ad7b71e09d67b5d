import { actionType, actorRole, authorizeIf, bypass, policy, superUser } from "../policy/checks.js";
import { auditEvents } from "../kernel.schema.js";
import { defineResource } from "../resource/define.js";

/**
 * The audit log as a resource: admins read their tenant's events (authorization failures, state
 * transitions, super-user bypasses, system writes) through the same APIs as everything else. It has
 * no write actions: only the kernel appends to it.
 */
export const auditEventResource = defineResource({
  name: "audit_event",
  table: auditEvents,
  tenancy: "tenant",
  actions: { read: { type: "read" } },
  policies: [bypass(superUser()), policy(actionType("read"), authorizeIf(actorRole("admin")))],
  events: false,
  description: "Authorization failures, state transitions, bypasses and system writes, newest last.",
});
