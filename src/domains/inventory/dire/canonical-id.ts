import { createHash, randomUUID } from "node:crypto";
import type { DeviceIdentifierType } from "../inventory.schema.js";

/**
 * Canonical device ids, compatible with ServiceRadar's: `sr:` + a UUID made of the first 16 bytes of
 * SHA-256(seed), with the version nibble set to 4 and the variant bits to binary 10. The seed is
 * `serviceradar-device-v3:partition:<partition>:` + the identifiers present, in priority order, each
 * written `<prefix>:<value>` and concatenated without a separator; with only an IP,
 * `…:partition:<p>:ip:<ip>`; with nothing at all, a random UUID. The same identifiers always give the
 * same id, in any tenant and any Sonde or ServiceRadar instance.
 */

const SEED_PREFIX: Readonly<Partial<Record<DeviceIdentifierType, string>>> = {
  agent_id: "agent",
  armis_device_id: "armis",
  integration_id: "integration",
  netbox_device_id: "netbox",
  mac: "mac",
};

const SEED_ORDER = ["agent_id", "armis_device_id", "integration_id", "netbox_device_id", "mac"] as const;

export interface SeedInput {
  readonly partition: string;
  /** Normalised values by type (a MAC normalised with normalizeMac). */
  readonly ids: Readonly<Partial<Record<DeviceIdentifierType, string>>>;
}

/** The seed string, or undefined when the update carries neither a strong identifier nor an IP. */
export function canonicalSeed({ partition, ids }: SeedInput): string | undefined {
  const head = `serviceradar-device-v3:partition:${partition}:`;
  const parts = SEED_ORDER.flatMap((t) => {
    const v = ids[t];
    return v === undefined || v === "" ? [] : [`${SEED_PREFIX[t]}:${v}`];
  });
  if (parts.length > 0) return head + parts.join("");
  if (ids.ip !== undefined && ids.ip !== "") return `${head}ip:${ids.ip}`;
  return undefined;
}

export function uuidFromSeed(seed: string): string {
  const b = createHash("sha256").update(seed).digest().subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function canonicalId(input: SeedInput): string {
  const seed = canonicalSeed(input);
  return `sr:${seed === undefined ? randomUUID() : uuidFromSeed(seed)}`;
}
