import { describe, expect, it } from "vitest";
import { type NdjsonLine, ndjsonLines } from "../../src/lib/ndjson.js";

async function lines(pieces: ReadonlyArray<string | Uint8Array>, maxLineBytes = 1024): Promise<NdjsonLine[]> {
  const out: NdjsonLine[] = [];
  for await (const line of ndjsonLines(pieces, { maxLineBytes })) out.push(line);
  return out;
}

const value = (v: unknown): NdjsonLine => ({ kind: "value", value: v });

describe("ndjsonLines", () => {
  it("yields one value per line, skipping blank lines and dropping \\r before \\n", async () => {
    expect(await lines(['{"a":1}\r\n\n  \n[2]\n"x"\n', "\n"])).toEqual([
      value({ a: 1 }),
      value([2]),
      value("x"),
    ]);
  });

  it("joins lines split across chunks, multi-byte characters included, and reads a last line without \\n", async () => {
    const bytes = new TextEncoder().encode('{"name":"Zürich-Ω"}\n{"b":2}');
    const pieces = [
      bytes.subarray(0, 12),
      bytes.subarray(12, 13),
      bytes.subarray(13, 25),
      bytes.subarray(25),
    ];
    expect(await lines(pieces)).toEqual([value({ name: "Zürich-Ω" }), value({ b: 2 })]);
  });

  it("reports a line that is not JSON on its own and goes on", async () => {
    expect(await lines(['{"a":1}\n{not json\n{"b":2}\n'])).toEqual([
      value({ a: 1 }),
      { kind: "invalid", reason: "not JSON" },
      value({ b: 2 }),
    ]);
  });

  it("skips a line longer than the limit to its end, even across chunks, and reports it", async () => {
    const long = `{"x":"${"y".repeat(40)}"}`;
    const got = await lines(
      [`{"a":1}\n${long.slice(0, 10)}`, long.slice(10, 30), `${long.slice(30)}\n{"b":2}\n`, long],
      32,
    );
    const tooLong = { kind: "invalid", reason: "line longer than 32 bytes" };
    expect(got).toEqual([value({ a: 1 }), tooLong, value({ b: 2 }), tooLong]);
  });

  it("reads nothing from an empty or blank source", async () => {
    expect(await lines([])).toEqual([]);
    expect(await lines(["\n \n\r\n"])).toEqual([]);
  });
});
