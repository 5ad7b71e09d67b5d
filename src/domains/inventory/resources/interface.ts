import { z } from "zod";
import { membersRead, operatorsWriteAdminsDestroy } from "../../../kernel/policy/role-matrix.js";
import { defineResource } from "../../../kernel/resource/define.js";
import type { Change, ResourceRef } from "../../../kernel/resource/types.js";
import { isMac, normalizeMac } from "../dire/identifiers.js";
import { interfaces } from "../inventory.schema.js";
import { deviceResource } from "./device.js";

const EDITABLE = [
  "name",
  "description",
  "mac",
  "ip_addresses",
  "speed_bps",
  "mtu",
  "admin_status",
  "oper_status",
] as const;

const ip = z.union([z.ipv4(), z.ipv6()]);

/** Stored the way DIRE compares MACs (upper-case hex, no separators), as on the device itself. */
const normalizedMac: Change = (values) =>
  typeof values.mac === "string" ? { ...values, mac: normalizeMac(values.mac) } : values;

const touched: Change = (values) => ({ ...values, updated_at: new Date() });

/**
 * A network interface of a device (SNMP ifTable, the mapper, or typed in by hand), keyed per device by
 * its ifIndex. It belongs to its device: removing the device removes its interfaces.
 */
export const interfaceResource = defineResource({
  name: "interface",
  table: interfaces,
  tenancy: "tenant",
  attributes: {
    if_index: { schema: z.number().int().min(0).max(2_147_483_647) },
    name: { schema: z.string().trim().min(1).max(255).nullable() },
    description: { schema: z.string().max(1000).nullable() },
    mac: {
      schema: z
        .string()
        .refine((v) => isMac(normalizeMac(v)), "not a 48-bit MAC address")
        .nullable(),
    },
    ip_addresses: { schema: z.array(ip).max(256) },
    speed_bps: { schema: z.number().int().min(0).nullable() },
    mtu: { schema: z.number().int().min(68).max(65_535).nullable() },
    admin_status: { schema: z.enum(["up", "down", "testing"]).nullable() },
    oper_status: { schema: z.enum(["up", "down", "testing", "unknown", "dormant"]).nullable() },
  },
  identities: { if_index: ["device_id", "if_index"] },
  relationships: {
    device: { kind: "belongs_to", resource: (): ResourceRef => deviceResource, sourceField: "device_id" },
  },
  actions: {
    read: { type: "read" },
    create: {
      type: "create",
      accept: ["device_id", "if_index", ...EDITABLE],
      require: ["device_id", "if_index"],
      changes: [normalizedMac],
      description: "Adds an interface to a device.",
    },
    update: {
      type: "update",
      // The device and ifIndex are the interface's identity: a different one is a different interface.
      accept: [...EDITABLE],
      changes: [normalizedMac, touched],
      description: "Edits an interface.",
    },
    destroy: { type: "destroy", description: "Removes the interface." },
  },
  policies: [...membersRead, ...operatorsWriteAdminsDestroy],
  events: true,
  description: "Network interfaces of devices, one per ifIndex.",
});
