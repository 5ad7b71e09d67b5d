import { z } from "zod";

const cidr = z.union([z.cidrv4(), z.cidrv6()]);

/**
 * A list of IPv4/IPv6 CIDRs; a bad entry is reported by position and value, so that an operator
 * pasting fifty ranges sees which one is wrong.
 */
export const cidrRangesSchema = z
  .array(z.string().max(64))
  .max(1024)
  .superRefine((ranges, ctx) => {
    ranges.forEach((range, i) => {
      if (!cidr.safeParse(range).success) {
        ctx.addIssue({
          code: "custom",
          path: [i],
          message: `entry ${i} (${JSON.stringify(range)}) is not an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or 2001:db8::/32`,
        });
      }
    });
  });
