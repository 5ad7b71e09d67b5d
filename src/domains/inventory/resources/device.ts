import { sql } from "drizzle-orm";
import { z } from "zod";
import { actionName, authorizeIf, policy, roleAtLeast } from "../../../kernel/policy/checks.js";
import { membersRead, operatorsWriteAdminsDestroy } from "../../../kernel/policy/role-matrix.js";
import { defineResource } from "../../../kernel/resource/define.js";
import type { Change, ResourceRef, WithinEvent } from "../../../kernel/resource/types.js";
import { canonicalId } from "../dire/canonical-id.js";
import { DEFAULT_PARTITION, isMac, normalizeMac } from "../dire/identifiers.js";
import { registerManualIdentifiers } from "../dire/manual-identifiers.js";
import { devices, RISK_LEVELS } from "../inventory.schema.js";
import { deviceAliasStateResource } from "./device-alias-state.js";
import { deviceGroupResource } from "./device-group.js";
import { deviceIdentifierResource } from "./device-identifier.js";
import { interfaceResource } from "./interface.js";

/** OCSF device type_id → name (OCSF 1.x `device.type_id`). */
export const OCSF_DEVICE_TYPES: Readonly<Record<number, string>> = {
  0: "Unknown",
  1: "Server",
  2: "Desktop",
  3: "Laptop",
  4: "Tablet",
  5: "Mobile",
  6: "Virtual",
  7: "IOT",
  8: "Browser",
  9: "Firewall",
  10: "Switch",
  11: "Hub",
  12: "Router",
  13: "IDS",
  14: "IPS",
  15: "Load Balancer",
  99: "Other",
};

const EDITABLE = [
  "name",
  "hostname",
  "ip",
  "mac",
  "device_type",
  "type_id",
  "vendor_name",
  "model",
  "os",
  "domain",
  "zone",
  "subnet",
  "region",
  "risk_level",
  "is_managed",
  "tags",
  "metadata",
  "group_id",
] as const;

/** A MAC is stored the way DIRE compares it: upper-case hex without separators. */
const normalizedMac: Change = (values) =>
  typeof values.mac === "string" ? { ...values, mac: normalizeMac(values.mac) } : values;

/** Attributes an operator sets are the manual source's: no integration may overwrite them. */
const manualSources: Change = (values, ctx) => {
  const sources: Record<string, string> = {
    ...((ctx.record?.field_sources as Record<string, string>) ?? {}),
  };
  for (const key of Object.keys(values)) if (key !== "tags" && key !== "metadata") sources[key] = "manual";
  return { ...values, field_sources: sources };
};

/** A device created by hand gets the canonical id its identifiers would give it in a sync. */
const canonical: Change = (values) => {
  const partition = typeof values.partition === "string" ? values.partition : DEFAULT_PARTITION;
  const ids = {
    agent_id: typeof values.agent_id === "string" ? values.agent_id : undefined,
    mac: typeof values.mac === "string" ? values.mac : undefined,
    ip: typeof values.ip === "string" ? values.ip : undefined,
  };
  const sources = Array.isArray(values.discovery_sources) ? values.discovery_sources : [];
  return {
    ...values,
    uid: canonicalId({ partition, ids }),
    discovery_sources: [...new Set([...sources, "manual"])],
  };
};

const ipSchema = z.union([z.ipv4(), z.ipv6()]);
const macSchema = z.string().refine((v) => isMac(normalizeMac(v)), "not a 48-bit MAC address");

async function registerIdentifiers(event: WithinEvent): Promise<void> {
  await registerManualIdentifiers(event.tx, event.tenantId, event.record);
}

/**
 * A device of the inventory, OCSF-aligned, under its canonical id (`sr:<uuid>`). Devices mostly
 * arrive through DIRE (the sync API, the bus stream, integrations), which reconciles every sighting
 * to one device; operators may also add and edit them by hand (the `manual` source, trusted most).
 */
export const deviceResource = defineResource({
  name: "device",
  table: devices,
  tenancy: "tenant",
  primaryKey: "uid",
  attributes: {
    ip: { schema: ipSchema },
    mac: { schema: macSchema },
    partition: { schema: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/) },
    type_id: { schema: z.number().int().min(0).max(99) },
    risk_level: { schema: z.enum(RISK_LEVELS) },
  },
  relationships: {
    group: { kind: "belongs_to", resource: (): ResourceRef => deviceGroupResource, sourceField: "group_id" },
    identifiers: {
      kind: "has_many",
      resource: (): ResourceRef => deviceIdentifierResource,
      destinationField: "device_id",
    },
    interfaces: {
      kind: "has_many",
      resource: (): ResourceRef => interfaceResource,
      destinationField: "device_id",
    },
    alias_states: {
      kind: "has_many",
      resource: (): ResourceRef => deviceAliasStateResource,
      destinationField: "device_id",
    },
  },
  aggregates: {
    identifier_count: { kind: "count", relationship: "identifiers" },
    interface_count: { kind: "count", relationship: "interfaces" },
  },
  calculations: {
    display_name: {
      type: "string",
      description: "The device's name, else its hostname, IP, MAC or canonical id.",
      sql: (t) => sql`coalesce(${t.name}, ${t.hostname}, ${t.ip}, ${t.mac}, ${t.uid})`,
    },
    status_color: {
      type: "string",
      description: "green: available; yellow: seen within the last hour; red: otherwise.",
      sql: (t) =>
        sql`case when ${t.is_available} then 'green' when ${t.last_seen_time} > now() - interval '1 hour' then 'yellow' else 'red' end`,
    },
    type_name: {
      type: "string",
      description: "The OCSF name of type_id (or the source's own type when it gave one).",
      sql: (t) =>
        sql`coalesce(${t.device_type}, case ${t.type_id} ${sql.raw(
          Object.entries(OCSF_DEVICE_TYPES)
            .map(([id, name]) => `when ${Number(id)} then '${name.replace(/'/g, "''")}'`)
            .join(" "),
        )} else 'Other' end)`,
    },
  },
  actions: {
    read: { type: "read" },
    create: {
      type: "create",
      accept: [...EDITABLE, "partition", "agent_id", "is_available"],
      changes: [normalizedMac, canonical, manualSources],
      within: registerIdentifiers,
      description: "Adds a device by hand; its canonical id is derived from its identifiers.",
    },
    update: {
      type: "update",
      accept: [...EDITABLE],
      changes: [normalizedMac, manualSources],
      description: "Edits a device; edited attributes become the manual source's.",
    },
    retire: {
      type: "update",
      route: "retire",
      changes: [(values) => ({ ...values, deleted_at: new Date(), ip: null })],
      description: "Soft-deletes the device (as a sync's `_deleted` does); its address becomes free.",
    },
    destroy: { type: "destroy", description: "Removes the device and its identifiers for good." },
    sync: {
      type: "create",
      bulk: true,
      description: "Reconciles a batch of device updates (the sync API, the bus stream, integrations).",
    },
  },
  quota: {
    limit: "max_devices",
    where: {
      and: [
        { field: "merged_into", op: "is_null", value: true },
        { field: "deleted_at", op: "is_null", value: true },
      ],
    },
  },
  policies: [
    ...membersRead,
    ...operatorsWriteAdminsDestroy,
    policy(actionName("sync"), authorizeIf(roleAtLeast("operator"))),
  ],
  events: true,
  description: "Devices of the inventory, one per real device, reconciled across sources.",
});
