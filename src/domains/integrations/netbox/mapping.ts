import type { DeviceUpdateInput } from "../../inventory/dire/update.js";
import { defined, ipAddress, text } from "../mapping.js";
import { netboxDevice } from "./types.js";

/**
 * One NetBox device as a DeviceUpdate: the NetBox id is the strong identifier (`netbox_device_id`),
 * the primary IP (IPv4 first) loses its prefix length, the platform is the OS. Site, role and status
 * ride along in metadata. Undefined for a record with neither id nor primary IP, or unreadable.
 */
export function netboxUpdate(raw: unknown, partition: string): DeviceUpdateInput | undefined {
  const parsed = netboxDevice.safeParse(raw);
  if (!parsed.success) return undefined;
  const d = parsed.data;
  const id = text(d.id, 200);
  const ip = ipAddress(d.primary_ip4?.address) ?? ipAddress(d.primary_ip?.address);
  if (id === undefined && ip === undefined) return undefined;
  const name = text(d.name);
  return {
    source: "netbox",
    partition,
    ...defined({
      ip,
      hostname: name,
      name,
      vendor_name: text(d.device_type?.manufacturer?.name),
      model: text(d.device_type?.model),
      os: text(d.platform?.name),
    }),
    metadata: {
      ...(id !== undefined ? { netbox_device_id: id } : {}),
      integration_type: "netbox",
      ...defined({
        netbox_site: text(d.site?.name),
        netbox_role: text(d.role?.name ?? d.device_role?.name),
        netbox_status: text(d.status?.value, 100),
      }),
    },
  };
}
