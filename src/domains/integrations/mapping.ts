import { isIP } from "node:net";
import { isMac, normalizeMac } from "../inventory/dire/identifiers.js";
import { RISK_LEVELS } from "../inventory/inventory.schema.js";

type RiskLevel = (typeof RISK_LEVELS)[number];

/**
 * Field cleaners shared by the Armis and NetBox mappings. A source's odd value for one field (an IP
 * list, an empty name, an unknown risk level) is dropped rather than failing the whole record: the
 * DeviceUpdate schema would reject the record for it, and the device is still worth knowing.
 */

/** Trimmed, non-empty text cut to the DeviceUpdate field's length; anything else undefined. */
export function text(value: unknown, max = 255): string | undefined {
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  const trimmed = String(value).trim();
  return trimmed === "" ? undefined : trimmed.slice(0, max);
}

/** An IPv4 or IPv6 address, without a prefix length (`10.0.0.1/24` → `10.0.0.1`). */
export function ipAddress(value: unknown): string | undefined {
  const raw = text(value, 64)?.split("/")[0];
  return raw !== undefined && isIP(raw) !== 0 ? raw : undefined;
}

export function macAddress(value: unknown): string | undefined {
  const raw = text(value, 64);
  return raw !== undefined && isMac(normalizeMac(raw)) ? raw : undefined;
}

/** An instant as ISO 8601 with an offset (what DeviceUpdate's `timestamp` takes). */
export function isoTime(value: unknown): string | undefined {
  const raw = text(value, 64);
  if (raw === undefined) return undefined;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
}

export function riskLevel(value: unknown): RiskLevel | undefined {
  const raw = text(value, 32)?.toLowerCase();
  return RISK_LEVELS.find((level) => level === raw);
}

/** Up to 100 distinct tags of at most 100 characters. */
export function tagList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const tags = [...new Set(value.map((t) => text(t, 100)).filter((t) => t !== undefined))];
  return tags.length > 0 ? tags.slice(0, 100) : undefined;
}

/** Drops undefined fields, so that the update carries only what the source said. */
export function defined<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}
