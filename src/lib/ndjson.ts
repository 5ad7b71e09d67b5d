/**
 * NDJSON (JSON Lines) read incrementally: one JSON value per line, lines split on `\n` (a `\r`
 * before it is dropped), blank lines skipped. Lines are split on bytes, which is safe for UTF-8
 * because no multi-byte sequence contains the byte 0x0A, and only one line is ever held at a time,
 * so a body of any size is read in bounded memory. A line that is not JSON or is too long is
 * reported on its own and reading goes on.
 */

export type NdjsonLine =
  { readonly kind: "value"; readonly value: unknown } | { readonly kind: "invalid"; readonly reason: string };

export interface NdjsonOptions {
  /** Longest line accepted, in bytes; a longer one is skipped to its end and reported. */
  readonly maxLineBytes: number;
}

const NEWLINE = 0x0a;
const decoder = new TextDecoder();

function parseLine(bytes: Buffer): NdjsonLine | undefined {
  const text = decoder.decode(bytes).trim();
  if (text === "") return undefined;
  try {
    return { kind: "value", value: JSON.parse(text) as unknown };
  } catch {
    return { kind: "invalid", reason: "not JSON" };
  }
}

/**
 * The non-blank lines of `source`, in order. The generator pulls the next chunk only when asked for
 * the next line, so a caller that awaits its own work between lines holds the source back.
 */
export async function* ndjsonLines(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: NdjsonOptions,
): AsyncGenerator<NdjsonLine> {
  const tooLong: NdjsonLine = {
    kind: "invalid",
    reason: `line longer than ${options.maxLineBytes} bytes`,
  };
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  /** The current line overflowed: its bytes are dropped until its newline. */
  let skipping = false;

  for await (const piece of source) {
    const chunk =
      typeof piece === "string"
        ? Buffer.from(piece)
        : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      const stop = end === -1 ? chunk.length : end;
      if (!skipping) {
        if (pendingBytes + (stop - start) > options.maxLineBytes) {
          skipping = true;
          pending = [];
          pendingBytes = 0;
        } else if (stop > start) {
          pending.push(chunk.subarray(start, stop));
          pendingBytes += stop - start;
        }
      }
      if (end === -1) break;
      if (skipping) {
        skipping = false;
        yield tooLong;
      } else {
        const line = parseLine(pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending));
        pending = [];
        pendingBytes = 0;
        if (line !== undefined) yield line;
      }
      start = end + 1;
    }
    // The chunk's bytes are kept past this point only as a copy: the source may reuse its buffer.
    if (pending.length > 0) {
      const copy = Buffer.concat(pending);
      pending = [copy];
    }
  }
  if (skipping) {
    yield tooLong;
  } else if (pending.length > 0) {
    const line = parseLine(Buffer.concat(pending));
    if (line !== undefined) yield line;
  }
}
