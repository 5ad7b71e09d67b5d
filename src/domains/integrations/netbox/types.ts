import { z } from "zod";

/**
 * The parts of NetBox's `/api/dcim/devices/` answers Sonde reads (NetBox REST API, 3.x and 4.x:
 * `role` is `device_role` before 3.6, read as either). Nested objects are nullable: a device may have
 * no primary IP, platform or role.
 */

const named = z.object({ name: z.string().nullish() }).nullish();

const address = z.object({ address: z.string().nullish() }).nullish();

export const netboxDevice = z.object({
  id: z.union([z.number().int(), z.string()]).nullish(),
  name: z.string().nullish(),
  primary_ip4: address,
  primary_ip: address,
  device_type: z.object({ model: z.string().nullish(), manufacturer: named }).nullish(),
  role: named,
  device_role: named,
  site: named,
  platform: named,
  status: z.object({ value: z.string().nullish() }).nullish(),
});
export type NetboxDevice = z.infer<typeof netboxDevice>;

export const netboxDevicesAnswer = z.object({
  count: z.number().int().nonnegative(),
  next: z.string().nullable(),
  // Read one by one (netboxDevice): one odd record is skipped, not the whole page.
  results: z.array(z.unknown()),
});
