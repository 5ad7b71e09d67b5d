import { authBench } from "./auth.js";
import { checksBench } from "./checks.js";
import { checksSuite } from "./checks-suite.js";
import { dispatchBench } from "./dispatch.js";
import { ingestBench } from "./ingest.js";
import { kernelBench } from "./kernel.js";
import { startupBench } from "./startup.js";

export interface Benchmark {
  readonly description: string;
  run(args: readonly string[]): Promise<void>;
}

export const benchmarks: Readonly<Record<string, Benchmark>> = {
  startup: startupBench,
  kernel: kernelBench,
  auth: authBench,
  ingest: ingestBench,
  checks: checksSuite,
  "agent-tcp": checksBench,
  dispatch: dispatchBench,
};
