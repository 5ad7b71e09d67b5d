import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The layers of src/, lowest first. A module may import from its own layer or any lower one, never
 * from a higher one (docs/architecture.md). `dag` and `srql` are pure: they import nothing of Sonde's
 * but `lib`.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["lib"],
  ["dag", "srql"],
  ["platform"],
  ["kernel"],
  ["domains"],
  ["api", "grpc"],
  ["roles"],
  ["cli"],
];
const PURE = new Set(["dag", "srql"]);

const SRC = resolve("src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

function layerOf(path: string): number {
  const top = relative(SRC, path).split("/")[0] ?? "";
  const index = LAYERS.findIndex((l) => l.includes(top));
  if (index === -1) throw new Error(`src/${top} is in no layer: add it to LAYERS and docs/architecture.md`);
  return index;
}

describe("layering", () => {
  it("imports only downward", () => {
    const violations: string[] = [];
    for (const file of files(SRC)) {
      const from = layerOf(file);
      const fromTop = relative(SRC, file).split("/")[0] ?? "";
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
        const target = resolve(file, "..", m[1] ?? "");
        if (!target.startsWith(SRC)) continue;
        const to = layerOf(target);
        const toTop = relative(SRC, target).split("/")[0] ?? "";
        if (to > from)
          violations.push(`${relative(SRC, file)} imports higher layer ${relative(SRC, target)}`);
        if (PURE.has(fromTop) && toTop !== fromTop && toTop !== "lib") {
          violations.push(`${relative(SRC, file)} is pure but imports ${relative(SRC, target)}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
