/**
 * `npm run bench -- <name>` runs one benchmark; `npm run bench -- --list` names them. Each prints one
 * `metric: value unit` line per figure (medians over repeated runs: these machines are noisy).
 */
import { benchmarks } from "./registry.js";

const arg = process.argv[2];
if (arg === undefined || arg === "--list" || arg === "--help") {
  for (const [name, b] of Object.entries(benchmarks)) process.stdout.write(`${name}\t${b.description}\n`);
  process.exit(arg === undefined ? 2 : 0);
}
const bench = benchmarks[arg];
if (bench === undefined) {
  process.stderr.write(`bench: unknown benchmark "${arg}"; known: ${Object.keys(benchmarks).join(", ")}\n`);
  process.exit(2);
}
await bench.run(process.argv.slice(3));
