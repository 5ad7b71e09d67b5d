import type { z } from "zod";
import { unexpectedShape } from "./request.js";

/** Parses a source's answer against its schema; a mismatch is SONDE_INTEGRATION_BAD_RESPONSE. */
export function parseAnswer<S extends z.ZodType>(what: string, schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw unexpectedShape(what, issue?.path ?? [], issue?.message ?? "invalid");
}
