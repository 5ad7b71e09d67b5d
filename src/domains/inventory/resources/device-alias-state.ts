import { actionName, authorizeIf, policy, roleAtLeast } from "../../../kernel/policy/checks.js";
import { membersRead } from "../../../kernel/policy/role-matrix.js";
import { defineResource } from "../../../kernel/resource/define.js";
import type { ResourceRef } from "../../../kernel/resource/types.js";
import { ALIAS_STATES, deviceAliasStates } from "../inventory.schema.js";
import { deviceResource } from "./device.js";

/**
 * An address or name a device has been seen under (an IP or hostname alias) and where DIRE stands on
 * it: detected, confirmed by repeated sightings, updated, gone stale, or replaced by another device
 * (`replaced_by`). DIRE writes these; an operator may archive one. Archived is final: no action
 * leads out of it.
 */
export const deviceAliasStateResource = defineResource({
  name: "device_alias_state",
  table: deviceAliasStates,
  tenancy: "tenant",
  relationships: {
    device: { kind: "belongs_to", resource: (): ResourceRef => deviceResource, sourceField: "device_id" },
  },
  actions: {
    read: { type: "read" },
    archive: { type: "update", route: "archive", description: "Archives the alias." },
  },
  stateMachine: {
    attribute: "state",
    initial: "detected",
    states: ALIAS_STATES,
    transitions: [
      {
        action: "archive",
        from: ALIAS_STATES.filter((s) => s !== "archived"),
        to: "archived",
      },
    ],
  },
  policies: [...membersRead, policy(actionName("archive"), authorizeIf(roleAtLeast("operator")))],
  events: true,
  description: "IP and hostname aliases of devices and their lifecycle.",
});
