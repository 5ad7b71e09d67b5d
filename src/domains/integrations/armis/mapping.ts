import type { DeviceUpdateInput } from "../../inventory/dire/update.js";
import { defined, ipAddress, isoTime, macAddress, riskLevel, tagList, text } from "../mapping.js";
import { armisDevice } from "./types.js";

/**
 * One Armis device as a DeviceUpdate: the Armis id is the strong identifier (`armis_device_id`), with
 * the MAC and IP beside it; `lastSeen` dates the sighting. Undefined for a record that names no
 * device (no id, no usable IP or MAC) or is unreadable: the runner counts it as rejected.
 */
export function armisUpdate(raw: unknown, partition: string): DeviceUpdateInput | undefined {
  const parsed = armisDevice.safeParse(raw);
  if (!parsed.success) return undefined;
  const d = parsed.data;
  const id = text(d.id, 200);
  const ip = ipAddress(d.ipAddress);
  const mac = macAddress(d.macAddress);
  if (id === undefined && ip === undefined && mac === undefined) return undefined;
  const name = text(d.name);
  return {
    source: "armis",
    partition,
    ...defined({
      ip,
      mac,
      hostname: name,
      name,
      type: text(d.type, 100),
      vendor_name: text(d.manufacturer),
      model: text(d.model),
      os: text(d.operatingSystem),
      risk_level: riskLevel(d.riskLevel),
      tags: tagList(d.tags),
      timestamp: isoTime(d.lastSeen),
    }),
    metadata: { ...(id !== undefined ? { armis_device_id: id } : {}), integration_type: "armis" },
  };
}
