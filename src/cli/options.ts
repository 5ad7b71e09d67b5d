import { InvalidArgumentError } from "commander";
import { CAPABILITIES, componentIdSchema, slugSchema } from "../platform/fabric/contract.js";

/** Commander parser for counts and limits (a bad value is a usage error: exit 2). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number of at least 1");
  return n;
}

/** Commander parser for tenant and partition slugs (subject and key tokens). */
export function slug(value: string): string {
  if (!slugSchema.safeParse(value).success)
    throw new InvalidArgumentError("use a-z, 0-9, '_' and '-' (at most 63)");
  return value;
}

/** Commander parser for a poller's or agent's component id. */
export function componentId(value: string): string {
  if (!componentIdSchema.safeParse(value).success) {
    throw new InvalidArgumentError("use letters, digits, '_' and '-' (at most 128)");
  }
  return value;
}

/** Commander parser for a comma-separated capability list, e.g. `icmp,tcp`. */
export function capabilityList(value: string): string[] {
  const list = value
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "");
  const unknown = list.filter((c) => !(CAPABILITIES as readonly string[]).includes(c));
  if (list.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`use a comma-separated list of ${CAPABILITIES.join(", ")}`);
  }
  return [...new Set(list)];
}
