#!/usr/bin/env node
// `npm test`: runs every suite with vitest, then prints one plain summary line
// (`tests: N passed, N failed, N skipped`) that CI and people can read at a glance.
// Arguments are passed to vitest (e.g. `npm test -- test/unit`).
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const out = join(".test-artifacts", "vitest.json");
mkdirSync(".test-artifacts", { recursive: true });
rmSync(out, { force: true });

const run = spawnSync(
  "npx",
  [
    "vitest",
    "run",
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${out}`,
    ...process.argv.slice(2),
  ],
  { stdio: "inherit" },
);

let summary = "tests: no results (vitest did not write its report)";
try {
  const report = JSON.parse(readFileSync(out, "utf8"));
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  const failedFiles = (report.testResults ?? []).filter(
    (f) => f.status === "failed" && f.assertionResults.length === 0,
  );
  // A file that fails before any test runs (import error, required service missing) counts as a failure.
  const failed = report.numFailedTests + failedFiles.length;
  summary = `tests: ${report.numPassedTests} passed, ${failed} failed, ${skipped} skipped`;
  if (skipped > 0) {
    process.stdout.write(
      "\nSkipped suites printed their reason above (for example a service that is not running).\n",
    );
  }
} catch {
  // keep the "no results" line
}
process.stdout.write(`\n${summary}\n`);
process.exit(run.status ?? 1);
