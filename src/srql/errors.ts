import { type ErrorCode, SondeError } from "../lib/errors.js";

export type SrqlErrorCode = Extract<ErrorCode, `SONDE_SRQL_${string}`>;

/** Long tokens are cut in messages; the position still points at the whole one. */
const SHOWN = 80;

function shown(token: string): string {
  return token.length > SHOWN ? `${token.slice(0, SHOWN)}…` : token;
}

/**
 * A query error names what is wrong, the offending token and where it starts (0-based offset), in
 * the message for people and in meta for programs (`meta.token`, `meta.position`).
 */
export function srqlError(
  code: SrqlErrorCode,
  problem: string,
  token: string,
  position: number,
  meta: Readonly<Record<string, string | number | readonly string[]>> = {},
): SondeError {
  return new SondeError(code, `${problem}: "${shown(token)}" at position ${position}`, {
    parameter: "query",
    meta: { token: shown(token), position, ...meta },
  });
}
