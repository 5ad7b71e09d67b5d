import { z } from "zod";
import { membersRead, operatorsWriteAdminsDestroy } from "../../../kernel/policy/role-matrix.js";
import { defineResource } from "../../../kernel/resource/define.js";
import type { ResourceRef } from "../../../kernel/resource/types.js";
import { deviceGroups } from "../inventory.schema.js";
import { deviceResource } from "./device.js";

/**
 * A named group of devices (a site, a rack, a customer segment), for operators to organise the
 * inventory. A device is in at most one group (`device.group_id`); removing a group ungroups its
 * devices, it never removes them.
 */
export const deviceGroupResource = defineResource({
  name: "device_group",
  table: deviceGroups,
  tenancy: "tenant",
  attributes: {
    name: { schema: z.string().trim().min(1).max(200) },
    description: { schema: z.string().max(2000).nullable() },
  },
  identities: { name: ["name"] },
  relationships: {
    devices: { kind: "has_many", resource: (): ResourceRef => deviceResource, destinationField: "group_id" },
  },
  aggregates: {
    device_count: { kind: "count", relationship: "devices" },
  },
  actions: {
    read: { type: "read" },
    create: { type: "create", accept: ["name", "description"], require: ["name"] },
    update: { type: "update", accept: ["name", "description"] },
    destroy: { type: "destroy", description: "Removes the group; its devices stay, ungrouped." },
  },
  policies: [...membersRead, ...operatorsWriteAdminsDestroy],
  events: true,
  description: "Named groups that organise devices.",
});
