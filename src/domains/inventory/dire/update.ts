import { isIP } from "node:net";
import { z } from "zod";
import { RISK_LEVELS } from "../inventory.schema.js";
import { DEFAULT_PARTITION, type Identifier, isMac, macIdentifier, normalizeMac } from "./identifiers.js";

/**
 * One device update as sources send it (sync API, bus stream, integration clients): the shape
 * ServiceRadar's DeviceUpdate has, with the strong identifiers of integrations in `metadata`.
 */
const text = (max: number) => z.string().trim().min(1).max(max);

const metadataSchema = z
  .object({
    armis_device_id: z.union([text(200), z.number().int()]).optional(),
    netbox_device_id: z.union([text(200), z.number().int()]).optional(),
    integration_id: text(200).optional(),
    integration_type: text(100).optional(),
    _deleted: z.union([z.boolean(), z.enum(["true", "false"])]).optional(),
  })
  .catchall(z.unknown());

export const deviceUpdateSchema = z
  .object({
    device_id: text(200).optional(),
    ip: text(64)
      .refine((v) => isIP(v) !== 0, "not an IPv4 or IPv6 address")
      .optional(),
    mac: text(64)
      .refine((v) => isMac(normalizeMac(v)), "not a 48-bit MAC address")
      .optional(),
    hostname: text(255).optional(),
    name: text(255).optional(),
    source: text(64),
    partition: text(100)
      .regex(/^[A-Za-z0-9_.:-]+$/, "letters, digits, '_', '.', ':' and '-' only")
      .optional(),
    agent_id: text(200).optional(),
    poller_id: text(200).optional(),
    timestamp: z.union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()]).optional(),
    is_available: z.boolean().optional(),
    type: text(100).optional(),
    type_id: z.number().int().min(0).max(99).optional(),
    vendor_name: text(255).optional(),
    model: text(255).optional(),
    os: text(255).optional(),
    domain: text(255).optional(),
    zone: text(255).optional(),
    subnet: text(64).optional(),
    region: text(255).optional(),
    risk_level: z.enum(RISK_LEVELS).optional(),
    is_managed: z.boolean().optional(),
    tags: z.array(text(100)).max(100).optional(),
    metadata: metadataSchema.optional(),
  })
  .strict();

export type DeviceUpdateInput = z.input<typeof deviceUpdateSchema>;

/** Attributes an update may set on the device, in the device's own column names. */
export const UPDATABLE_ATTRIBUTES = [
  "hostname",
  "name",
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
  "is_available",
  "agent_id",
  "poller_id",
] as const;
export type UpdatableAttribute = (typeof UPDATABLE_ATTRIBUTES)[number];

/** An update after validation and normalisation: what reconciliation works on. */
export interface DeviceUpdate {
  /** Position in the caller's input, for `rejected[].index`. */
  readonly index: number;
  readonly deviceId: string | undefined;
  readonly partition: string;
  readonly source: string;
  readonly seenAt: Date;
  readonly deleted: boolean;
  readonly ip: string | undefined;
  /** Matchable identifiers (strong and medium), strongest first; IP is kept apart. */
  readonly identifiers: readonly Identifier[];
  readonly attributes: Readonly<Partial<Record<UpdatableAttribute, unknown>>>;
  readonly tags: readonly string[] | undefined;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface Rejection {
  readonly index: number;
  readonly reason: string;
}

function idText(v: string | number | undefined): string | undefined {
  return v === undefined ? undefined : String(v).trim();
}

function normalizeIp(ip: string): string {
  return isIP(ip) === 6 ? ip.toLowerCase() : ip;
}

/** Validates and normalises one raw update; a rejection names what is wrong, never the whole value. */
export function parseUpdate(raw: unknown, index: number, now: Date): DeviceUpdate | Rejection {
  const parsed = deviceUpdateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    return { index, reason: `${where}${issue?.message ?? "invalid device update"}` };
  }
  const u = parsed.data;
  const meta = u.metadata ?? {};
  const ids: Identifier[] = [];
  const push = (type: Identifier["type"], value: string | undefined) => {
    if (value !== undefined && value !== "") ids.push({ type, value, confidence: "strong" });
  };
  push("agent_id", u.agent_id);
  push("armis_device_id", idText(meta.armis_device_id));
  push("integration_id", meta.integration_id);
  push("netbox_device_id", idText(meta.netbox_device_id));
  const mac = u.mac !== undefined ? normalizeMac(u.mac) : undefined;
  if (mac !== undefined) ids.push(macIdentifier(mac));
  const ip = u.ip !== undefined ? normalizeIp(u.ip) : undefined;
  if (ids.length === 0 && ip === undefined && u.device_id === undefined) {
    return {
      index,
      reason: "no identifier: give an ip, a mac, an agent_id, a device_id or an integration id",
    };
  }
  const seenAt = u.timestamp === undefined ? now : new Date(u.timestamp);
  if (Number.isNaN(seenAt.getTime())) return { index, reason: "timestamp: not a valid time" };
  const attributes: Partial<Record<UpdatableAttribute, unknown>> = {};
  for (const key of UPDATABLE_ATTRIBUTES) {
    // OCSF's `type` is stored as device_type (JSON:API reserves `type`).
    const value = key === "mac" ? mac : key === "ip" ? ip : key === "device_type" ? u.type : u[key];
    if (value !== undefined) attributes[key] = value;
  }
  const { _deleted, ...restMeta } = meta;
  return {
    index,
    deviceId: u.device_id,
    partition: u.partition ?? DEFAULT_PARTITION,
    source: u.source.toLowerCase(),
    seenAt,
    deleted: _deleted === true || _deleted === "true",
    ip,
    identifiers: ids,
    attributes,
    tags: u.tags,
    metadata: restMeta,
  };
}

export function isRejection(v: DeviceUpdate | Rejection): v is Rejection {
  return "reason" in v;
}
