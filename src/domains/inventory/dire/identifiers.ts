import type { DeviceIdentifierType, IdentifierConfidence } from "../inventory.schema.js";

/**
 * Identifiers that name a device, strongest first. Priority decides which device wins when an
 * update's identifiers point at several, and the order in which they seed a canonical id.
 */
export const STRONG_PRIORITY = [
  "agent_id",
  "armis_device_id",
  "integration_id",
  "netbox_device_id",
  "mac",
] as const;
export type StrongType = (typeof STRONG_PRIORITY)[number];

export const PRIORITY_RANK: Readonly<Record<DeviceIdentifierType, number>> = {
  agent_id: 0,
  armis_device_id: 1,
  integration_id: 2,
  netbox_device_id: 3,
  mac: 4,
  ip: 5,
};

/** The partition lookups use when an update names none. */
export const DEFAULT_PARTITION = "default";

export interface Identifier {
  readonly type: DeviceIdentifierType;
  readonly value: string;
  readonly confidence: IdentifierConfidence;
}

/** `aa:bb-cc.dd ee ff` → `AABBCCDDEEFF`: trimmed, upper-case, separators removed. */
export function normalizeMac(raw: string): string {
  return raw
    .trim()
    .toUpperCase()
    .replace(/[^0-9A-F]/g, "");
}

/** A plausible 48-bit MAC after normalisation. */
export function isMac(normalized: string): boolean {
  return /^[0-9A-F]{12}$/.test(normalized);
}

/**
 * Locally administered MACs (bit 0x02 of the first octet) are assigned by software — VMs, containers,
 * randomising phones — and repeat across devices, so they are only medium evidence.
 */
export function isLocallyAdministered(normalized: string): boolean {
  const first = Number.parseInt(normalized.slice(0, 2), 16);
  return Number.isFinite(first) && (first & 0x02) !== 0;
}

export function macIdentifier(normalized: string): Identifier {
  return {
    type: "mac",
    value: normalized,
    confidence: isLocallyAdministered(normalized) ? "medium" : "strong",
  };
}

/** Strong evidence beyond a MAC: the identifiers that may merge devices and promote them. */
export function isNonMacStrong(id: Identifier): boolean {
  return id.type !== "mac" && id.type !== "ip" && id.confidence === "strong";
}

/** Any identifier lookups may match a device on (IP is only the fallback). */
export function isMatchable(id: Identifier): boolean {
  return id.type !== "ip";
}

export function byPriority(a: Identifier, b: Identifier): number {
  return PRIORITY_RANK[a.type] - PRIORITY_RANK[b.type];
}
