import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The package version, read once from package.json (two levels up from both src/ and dist/). */
export const SONDE_VERSION: string = (() => {
  const path = resolve(dirname(fileURLToPath(import.meta.url)), "../../package.json");
  const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
  return typeof parsed === "object" &&
    parsed !== null &&
    "version" in parsed &&
    typeof parsed.version === "string"
    ? parsed.version
    : "0.0.0";
})();
