import { isSondeError } from "../../../lib/errors.js";

const REDACTED = "[redacted]";
const MAX_LENGTH = 2000;

/** The text with every occurrence of the secret replaced (a last line: messages are written secret-free). */
export function redact(text: string, secret: string | null): string {
  return secret === null || secret === "" ? text : text.split(secret).join(REDACTED);
}

/**
 * What a failed sync records (source `last_sync_error`, run `error`) and its job reports: catalogue
 * errors say what failed (source, request, HTTP status) and are written without secrets; anything
 * else is not shown, because its text was not written for operators and might quote anything.
 */
export function syncErrorMessage(err: unknown, secret: string | null): string {
  const text =
    isSondeError(err) && err.code !== "SONDE_INTERNAL" ? err.message : "the sync failed unexpectedly";
  return redact(text, secret).slice(0, MAX_LENGTH);
}
