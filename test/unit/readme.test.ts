import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { settingDocs } from "../../src/platform/config/index.js";

describe("README", () => {
  const readme = readFileSync("README.md", "utf8");

  it("documents every setting in its configuration table", () => {
    const rows = new Set([...readme.matchAll(/^\|\s*`([A-Z_]+)`\s*\|/gm)].map((m) => m[1]));
    const missing = settingDocs.filter((d) => !rows.has(d.name)).map((d) => d.name);
    expect(missing).toEqual([]);
  });

  it("shows the two quick-start commands", () => {
    expect(readme).toContain("npm install && npm start");
    expect(readme).toContain("npm test");
  });
});
