import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Benchmark } from "./registry.js";
import { median, report } from "./stats.js";

const BIN = resolve("bin/sonde.js");

interface Run {
  readyMs: number;
  rssMiB: number;
  shutdownMs: number;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** Starts `sonde start` the way `npm start` does, times it to /readyz 200, idles, measures, stops it. */
async function once(dataDir: string, port: number, idleMs: number): Promise<Run> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, "start"], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SONDE_DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: "warn",
      LOG_FORMAT: "json",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const deadline = t0 + 60_000;
  let readyMs = Number.NaN;
  while (performance.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) {
        readyMs = performance.now() - t0;
        break;
      }
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  if (Number.isNaN(readyMs)) {
    child.kill("SIGKILL");
    throw new Error("sonde did not become ready within 60 s");
  }
  await sleep(idleMs);
  const rss = child.pid === undefined ? Number.NaN : rssMiB(child.pid);
  const s0 = performance.now();
  child.kill("SIGTERM");
  const code = await exited;
  if (code !== 0) throw new Error(`sonde exited ${code} on SIGTERM`);
  return { readyMs, rssMiB: rss, shutdownMs: performance.now() - s0 };
}

export const startupBench: Benchmark = {
  description: "npm start to /readyz 200 (fresh and existing data dir), idle RSS, SIGTERM to exit",
  async run(args) {
    const runs = Number(args[0] ?? 5);
    const idleMs = 5_000;
    const port = 18_000 + Math.floor(Math.random() * 1000);
    const fresh: Run[] = [];
    const warm: Run[] = [];
    for (let i = 0; i < runs; i++) {
      const dir = mkdtempSync(join(tmpdir(), "sonde-bench-"));
      try {
        fresh.push(await once(dir, port, idleMs));
        warm.push(await once(dir, port, 500));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    report("startup_to_ready_fresh_data_dir_median", median(fresh.map((r) => r.readyMs)) / 1000, "s");
    report("startup_to_ready_existing_data_dir_median", median(warm.map((r) => r.readyMs)) / 1000, "s");
    report("idle_rss_after_5s_median", median(fresh.map((r) => r.rssMiB)), "MiB", 1);
    report("sigterm_to_exit_median", median(fresh.map((r) => r.shutdownMs)) / 1000, "s");
    report("runs", runs, "count", 0);
  },
};
