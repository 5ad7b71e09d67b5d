import { isIP } from "node:net";
import { z } from "zod";
import { membersRead, operatorsWriteAdminsDestroy } from "../../../kernel/policy/role-matrix.js";
import { defineResource } from "../../../kernel/resource/define.js";
import type { Change, ResourceRef, Validation } from "../../../kernel/resource/types.js";
import { DEFAULT_PARTITION, isMac, macIdentifier, normalizeMac } from "../dire/identifiers.js";
import { forgetTenantIdentities } from "../dire/forget-identities.js";
import {
  DEVICE_IDENTIFIER_TYPES,
  type DeviceIdentifierType,
  deviceIdentifiers,
  type IdentifierConfidence,
} from "../inventory.schema.js";
import { deviceResource } from "./device.js";

/** The value as DIRE compares it: MACs upper-case without separators, IPv6 lower-case. */
function normalize(type: DeviceIdentifierType, value: string): string {
  if (type === "mac") return normalizeMac(value);
  if (type === "ip" && isIP(value) === 6) return value.toLowerCase();
  return value;
}

/**
 * How much a sighting of this identifier proves, by its kind, never by the caller's say-so: an IP is
 * reused and only weak; a locally administered MAC repeats across VMs and phones (medium); the other
 * identifiers name one device (strong).
 */
function confidenceOf(type: DeviceIdentifierType, normalized: string): IdentifierConfidence {
  if (type === "mac") return macIdentifier(normalized).confidence;
  if (type === "ip") return "weak";
  return "strong";
}

/** An identifier added by hand is the manual source's, normalised, with its confidence derived. */
const manual: Change = (values) => {
  const type = values.identifier_type as DeviceIdentifierType;
  const value = normalize(type, String(values.value));
  return {
    ...values,
    value,
    partition: typeof values.partition === "string" ? values.partition : DEFAULT_PARTITION,
    source: "manual",
    confidence: confidenceOf(type, value),
  };
};

const wellFormed: Validation = (values) => {
  const value = String(values.value);
  if (values.identifier_type === "mac" && !isMac(value))
    return { field: "value", message: "not a 48-bit MAC address" };
  if (values.identifier_type === "ip" && isIP(value) === 0)
    return { field: "value", message: "not an IPv4 or IPv6 address" };
  return undefined;
};

/**
 * An identifier that names a device (agent id, Armis/NetBox/integration id, MAC, IP), unique per
 * tenant, type, value and partition: DIRE finds devices by them. Most arrive with syncs; an operator
 * may add one by hand (source `manual`) so that the next sync of that device lands on it, and an
 * admin may remove a wrong one. Identifiers are never edited: a changed value is another identifier.
 */
export const deviceIdentifierResource = defineResource({
  name: "device_identifier",
  table: deviceIdentifiers,
  tenancy: "tenant",
  attributes: {
    identifier_type: { schema: z.enum(DEVICE_IDENTIFIER_TYPES) },
    value: { schema: z.string().trim().min(1).max(200) },
    partition: { schema: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/) },
  },
  identities: { identifier: ["identifier_type", "value", "partition"] },
  relationships: {
    device: { kind: "belongs_to", resource: (): ResourceRef => deviceResource, sourceField: "device_id" },
  },
  actions: {
    read: { type: "read" },
    create: {
      type: "create",
      accept: ["device_id", "identifier_type", "value", "partition"],
      require: ["device_id", "identifier_type", "value"],
      changes: [manual],
      validations: [wellFormed],
      afterCommit: forgetTenantIdentities,
      description: "Adds an identifier by hand (source manual; its confidence follows from its type).",
    },
    destroy: {
      type: "destroy",
      afterCommit: forgetTenantIdentities,
      description: "Removes an identifier; the next sighting of it no longer finds this device.",
    },
  },
  // No update action: an identifier is added or removed, never edited.
  policies: [...membersRead, ...operatorsWriteAdminsDestroy],
  events: true,
  description: "Identifiers that name devices, by which DIRE recognises them.",
});
