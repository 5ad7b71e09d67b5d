import { InvalidArgumentError } from "commander";

/** Commander parser for counts and limits (a bad value is a usage error: exit 2). */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number of at least 1");
  return n;
}
