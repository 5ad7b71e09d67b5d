import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import pino from "pino";
import { createAgentClient } from "../src/grpc/agent-client.js";
import { createCheckRunner, tcpProbe } from "../src/platform/probes/index.js";
import { startAgent } from "../src/roles/agent.js";
import type { Benchmark } from "./registry.js";
import { median, report } from "./stats.js";

/**
 * TCP connect checks per second of one agent against loopback listeners, beside the ceiling: a bare
 * `net.connect` loop at the same concurrency in the same run. The listeners run in a child process
 * (as targets would be elsewhere), so the agent's event loop does only the agent's work. Rounds are
 * interleaved (ceiling, runner, gRPC) so that machine noise hits all three alike.
 */

const TARGET_SCRIPT = `
const net = require("node:net");
const ports = [];
let pending = Number(process.argv[1]);
for (let i = 0; i < Number(process.argv[1]); i++) {
  const s = net.createServer((c) => c.destroy());
  s.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, () => {
    ports.push(s.address().port);
    if (--pending === 0) process.stdout.write(JSON.stringify(ports) + "\\n");
  });
}
`;

async function startTargets(count: number): Promise<{ ports: number[]; child: ChildProcess }> {
  const child = spawn(process.execPath, ["-e", TARGET_SCRIPT, String(count)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ports = await new Promise<number[]>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("target listeners did not start within 10 s")), 10_000);
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve(JSON.parse(out) as number[]);
      }
    });
    child.once("exit", (code) => reject(new Error(`target listeners exited ${code}`)));
  });
  return { ports, child };
}

/** The ceiling: connect, destroy on connect, `concurrency` at a time; returns connects per second. */
function bareConnects(ports: readonly number[], count: number, concurrency: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let started = 0;
    let finished = 0;
    let failed = 0;
    const t0 = performance.now();
    const next = () => {
      const port = ports[started % ports.length] ?? 0;
      started++;
      const socket = connect(port, "127.0.0.1");
      const done = (ok: boolean) => {
        socket.destroy();
        if (!ok) failed++;
        finished++;
        if (finished === count) {
          if (failed > 0) reject(new Error(`${failed} bare connects failed`));
          else resolve(count / ((performance.now() - t0) / 1000));
        } else if (started < count) next();
      };
      socket.once("connect", () => done(true));
      socket.once("error", () => done(false));
    };
    for (let i = 0; i < Math.min(concurrency, count); i++) next();
  });
}

export const checksBench: Benchmark = {
  description:
    "TCP connect checks/s of one agent (probe runner and GetResults over loopback gRPC) vs a bare net.connect loop",
  async run(args) {
    const runs = Number(args[0] ?? 5);
    const count = Number(args[1] ?? 20_000);
    const concurrency = Number(args[2] ?? 64);
    const batch = 5_000;
    const deadline = Date.now() + 10 * 60_000;
    const targets = await startTargets(8);
    const checks = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        kind: "port" as const,
        host: "127.0.0.1",
        port: targets.ports[i % targets.ports.length] ?? 0,
      }));
    const runner = createCheckRunner({ probes: { port: tcpProbe }, concurrency, defaultTimeoutMs: 5_000 });
    const agent = await startAgent({
      listen: "127.0.0.1:0",
      agentId: "bench",
      insecure: true,
      concurrency,
      maxBatchChecks: batch,
      logger: pino({ level: "silent" }),
    });
    const client = createAgentClient({ address: agent.address, insecure: true, timeoutMs: 120_000 });
    const ceiling: number[] = [];
    const viaRunner: number[] = [];
    const viaGrpc: number[] = [];
    // CPU time of this process per check: steadier than rates on a shared machine.
    const cpu = { ceiling: [] as number[], runner: [] as number[], grpc: [] as number[] };
    const cpuSince = (from: NodeJS.CpuUsage) => {
      const used = process.cpuUsage(from);
      return (used.user + used.system) / count;
    };
    try {
      // Warm-up: JIT, the HTTP/2 connection, the listeners' accept paths.
      await bareConnects(targets.ports, 2_000, concurrency);
      await runner.run(checks(2_000).map((check) => ({ check })));
      await client.getResults({
        checks: checks(1_000).map((c) => ({ service_type: "port", details: `${c.host}:${c.port}` })),
      });

      const batches = Array.from({ length: Math.ceil(count / batch) }, (_, b) =>
        checks(Math.min(batch, count - b * batch)).map((c) => ({
          service_type: "port",
          details: `${c.host}:${c.port}`,
        })),
      );
      for (let r = 0; r < runs && Date.now() < deadline; r++) {
        let c0 = process.cpuUsage();
        ceiling.push(await bareConnects(targets.ports, count, concurrency));
        cpu.ceiling.push(cpuSince(c0));

        const scheduled = checks(count).map((check) => ({ check }));
        c0 = process.cpuUsage();
        let t0 = performance.now();
        const results = await runner.run(scheduled);
        viaRunner.push(count / ((performance.now() - t0) / 1000));
        cpu.runner.push(cpuSince(c0));
        const down = results.filter((x) => !x.available).length;
        if (down > 0)
          throw new Error(`${down} runner checks failed: ${results.find((x) => !x.available)?.error}`);

        // Batches go out together: the agent's runner bounds what is in flight.
        c0 = process.cpuUsage();
        t0 = performance.now();
        const answers = await Promise.all(batches.map((b) => client.getResults({ checks: b })));
        viaGrpc.push(count / ((performance.now() - t0) / 1000));
        cpu.grpc.push(cpuSince(c0));
        const grpcDown = answers.flatMap((a) => a.results).filter((x) => !x.available).length;
        if (grpcDown > 0) throw new Error(`${grpcDown} gRPC checks failed`);
      }
    } finally {
      client.close();
      await agent.stop();
      targets.child.kill();
    }
    const c = median(ceiling);
    const p = median(viaRunner);
    const g = median(viaGrpc);
    report("tcp_connect_ceiling_median", c, "connects/s", 0);
    report("probe_runner_tcp_checks_median", p, "checks/s", 0);
    report("probe_runner_vs_ceiling", p / c, "ratio");
    report("grpc_getresults_tcp_checks_median", g, "checks/s", 0);
    report("grpc_getresults_vs_ceiling", g / c, "ratio");
    report("cpu_per_connect_ceiling_median", median(cpu.ceiling), "us", 1);
    report("cpu_per_check_probe_runner_median", median(cpu.runner), "us", 1);
    // Includes the client's side (encoding the batch, decoding the results) in the same process.
    report("cpu_per_check_grpc_getresults_median", median(cpu.grpc), "us", 1);
    report("concurrency", concurrency, "checks", 0);
    report("checks_per_run", count, "count", 0);
    report("runs", ceiling.length, "count", 0);
  },
};
