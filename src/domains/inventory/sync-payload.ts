import { type NdjsonLine, ndjsonLines } from "../../lib/ndjson.js";

/** The records of one sync bus message, or why it holds none (the message is then dropped). */
export type DecodedSyncPayload =
  | { readonly kind: "records"; readonly records: readonly NdjsonLine[] }
  | { readonly kind: "malformed"; readonly reason: string };

const MAX_LINE_BYTES = 1024 * 1024;

/**
 * A sync message's payload is a JSON array of updates, one update object, or NDJSON (one update per
 * line). Whole-payload JSON is tried first; NDJSON lines that are not JSON are rejected one by one.
 * A payload of which nothing is JSON is malformed as a whole.
 */
export async function decodeSyncPayload(data: Uint8Array): Promise<DecodedSyncPayload> {
  const text = new TextDecoder().decode(data).trim();
  if (text === "") return { kind: "malformed", reason: "empty payload" };
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    const records: NdjsonLine[] = [];
    for await (const line of ndjsonLines([data], { maxLineBytes: MAX_LINE_BYTES })) records.push(line);
    if (!records.some((r) => r.kind === "value")) {
      return { kind: "malformed", reason: "payload is neither JSON nor NDJSON" };
    }
    return { kind: "records", records };
  }
  if (Array.isArray(whole))
    return { kind: "records", records: whole.map((value) => ({ kind: "value", value })) };
  if (typeof whole === "object" && whole !== null)
    return { kind: "records", records: [{ kind: "value", value: whole }] };
  return { kind: "malformed", reason: "payload is JSON but neither an array nor an object" };
}
