import { z } from "zod";

/**
 * The parts of Armis's API answers Sonde reads (Armis Centrix REST API v1). Fields Sonde does not use
 * are dropped; fields it uses are optional and nullable, because Armis omits what it does not know.
 */

const optionalText = z.string().nullish();

export const armisTokenAnswer = z.object({
  data: z.object({
    access_token: z.string().min(1),
    expiration_utc: z.string().nullish(),
  }),
});

export const armisDevice = z.object({
  id: z.union([z.number().int(), z.string()]).nullish(),
  ipAddress: optionalText,
  macAddress: optionalText,
  name: optionalText,
  type: optionalText,
  manufacturer: optionalText,
  model: optionalText,
  operatingSystem: optionalText,
  firstSeen: optionalText,
  lastSeen: optionalText,
  riskLevel: z.union([z.string(), z.number()]).nullish(),
  tags: z.array(z.unknown()).nullish(),
});
export type ArmisDevice = z.infer<typeof armisDevice>;

export const armisSearchAnswer = z.object({
  data: z.object({
    count: z.number().int().nonnegative(),
    next: z.number().int().nonnegative().nullable(),
    total: z.number().int().nonnegative().nullish(),
    // Records are read one by one (armisDevice): one odd record is skipped, not the whole page.
    results: z.array(z.unknown()),
  }),
});
