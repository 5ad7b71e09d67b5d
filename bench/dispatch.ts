/**
 * `npm run bench -- dispatch [--nats] [--seconds=N] [--runs=N] [--concurrency=N] [--pollers=N]
 *   [--consumers=N] [--prefetch=N] [--no-coalesce]`
 *
 * Dispatch round trips core → poller → agent → core over the bus: the Dispatcher's request to the
 * partition's queue group, a poller accepting it and handing it to the test-grade TCP AgentCaller
 * (which connects to a loopback listener, as an agent's TCP check would), the poller publishing the
 * WorkResult to SONDE_RESULTS, and core's consumeResults handler receiving it. A round trip is timed
 * from dispatch() to the handler. `--concurrency` work items are kept in flight (pipelining; default
 * 256); each run lasts `--seconds` (default 5) after a 1 s warm-up; medians over `--runs` (default 3).
 *
 * In-process bus by default (everything in one thread); `--nats` uses NATS at BENCH_NATS_URL (default
 * nats://127.0.0.1:4222), with the pollers, agents' entries and TCP target in a worker thread on their
 * own connection (bench/dispatch-edge.ts). CPU per round trip counts both threads, not nats-server. Target (issue): ≥ 2,000 round trips/s through NATS.
 */
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { createBus } from "../src/platform/bus/index.js";
import type { Bus, Consumer } from "../src/platform/bus/types.js";
import type { WorkItem } from "../src/platform/fabric/contract.js";
import { Dispatcher } from "../src/platform/fabric/dispatcher.js";
import { consumeResults } from "../src/platform/fabric/results.js";
import { startEdge, startEdgeThread } from "./dispatch-edge.js";
import type { Benchmark } from "./registry.js";
import { median, percentile, report } from "./stats.js";

const TARGET_ROUND_TRIPS_PER_S = 2_000;
const logger = pino({ level: "silent" });

interface Args {
  readonly nats: boolean;
  readonly seconds: number;
  readonly runs: number;
  readonly concurrency: number;
  readonly pollers: number;
  readonly consumers: number;
  readonly prefetch: number;
  readonly coalesce: boolean;
}

function parseArgs(args: readonly string[]): Args {
  const num = (name: string, fallback: number) => {
    const raw = args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number of at least 1`);
    return n;
  };
  return {
    nats: args.includes("--nats"),
    coalesce: !args.includes("--no-coalesce"),
    seconds: num("seconds", 5),
    runs: num("runs", 3),
    concurrency: num("concurrency", 256),
    pollers: num("pollers", 2),
    consumers: num("consumers", 16),
    prefetch: num("prefetch", 1),
  };
}

interface Run {
  readonly perSecond: number;
  readonly latenciesMs: number[];
  /** CPU time of this process (core, pollers and the test agent; not nats-server) per round trip. */
  readonly cpuUsPerRoundTrip: number;
}

export const dispatchBench: Benchmark = {
  description: "dispatch round trips/s core → poller → agent → core, p50/p99 latency, RSS (--nats for NATS)",
  async run(rawArgs) {
    const args = parseArgs(rawArgs);
    const natsUrl = process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222";
    const coreBus = await createBus({
      name: "bench-dispatch-core",
      logger,
      ...(args.nats ? { natsUrl } : {}),
    });
    const runId = randomBytes(4).toString("hex");
    const tenant = `bench${runId}`;
    const partition = "p1";
    const registryBucket = `bench_reg_${runId}`;
    const controlBucket = `bench_ctl_${runId}`;
    const durable = `bench_results_${runId}`;
    const edgeParams = {
      tenant,
      partition,
      registryBucket,
      controlBucket,
      pollers: args.pollers,
      maxInFlight: args.concurrency,
      coalesce: args.coalesce,
    };
    const cleanups: Array<() => Promise<void>> = [];
    try {
      // In-process, every role must share the one bus; with NATS the pollers get a thread and connection.
      const edge = args.nats
        ? await startEdgeThread(natsUrl, edgeParams)
        : await startEdge(coreBus, edgeParams);
      cleanups.push(() => edge.stop());
      const targets = edge.targets;

      const started = new Map<string, number>();
      let onDone: (id: string) => void = () => {};
      const consumers: Consumer[] = [];
      for (let i = 0; i < args.consumers; i++) {
        consumers.push(
          await consumeResults(coreBus, durable, async (result) => onDone(result.work_id), {
            logger,
            filterSubject: `sonde.${tenant}.results.>`,
            prefetch: args.prefetch,
          }),
        );
      }
      cleanups.push(async () => {
        await Promise.all(consumers.map((c) => c.stop()));
      });
      const dispatcher = new Dispatcher(coreBus, { logger, requestTimeoutMs: 5_000 });
      cleanups.push(async () => void dispatcher.stop());

      let seq = 0;
      const workItem = (): WorkItem => ({
        id: `${runId}-${++seq}`,
        tenant,
        partition,
        capability: "tcp",
        service_name: "loopback",
        service_type: "port",
        details: targets[seq % targets.length] ?? "",
        port: 0,
        timeout_ms: 5_000,
        attempt: 1,
      });

      /** Keeps `concurrency` items in flight for `ms`; returns completions and their latencies. */
      const drive = async (ms: number): Promise<Run> => {
        const latenciesMs: number[] = [];
        const until = performance.now() + ms;
        let inFlight = 0;
        let finish: () => void = () => {};
        const finished = new Promise<void>((r) => (finish = r));
        const launch = () => {
          while (inFlight < args.concurrency && performance.now() < until) {
            const w = workItem();
            started.set(w.id, performance.now());
            inFlight++;
            void dispatcher.dispatch(w).then((o) => {
              if (o.status !== "accepted") throw new Error(`work undispatched: ${o.reason} ${o.detail}`);
            });
          }
          if (inFlight === 0) finish();
        };
        onDone = (id) => {
          const t0 = started.get(id);
          if (t0 === undefined) return;
          started.delete(id);
          latenciesMs.push(performance.now() - t0);
          inFlight--;
          launch();
        };
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        launch();
        await finished;
        const elapsedS = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        return {
          perSecond: latenciesMs.length / elapsedS,
          latenciesMs,
          cpuUsPerRoundTrip: (cpu.user + cpu.system) / Math.max(1, latenciesMs.length),
        };
      };

      await drive(1_000);
      const runs: Run[] = [];
      for (let i = 0; i < args.runs; i++) runs.push(await drive(args.seconds * 1000));
      const prefix = args.nats ? "nats_" : "memory_";
      report(`${prefix}dispatch_round_trips_per_s_median`, median(runs.map((r) => r.perSecond)), "1/s", 0);
      report(
        `${prefix}dispatch_latency_p50_median`,
        median(runs.map((r) => percentile(r.latenciesMs, 50))),
        "ms",
      );
      report(
        `${prefix}dispatch_latency_p99_median`,
        median(runs.map((r) => percentile(r.latenciesMs, 99))),
        "ms",
      );
      report(
        `${prefix}dispatch_cpu_per_round_trip_median`,
        median(runs.map((r) => r.cpuUsPerRoundTrip)),
        "us",
        0,
      );
      report(`${prefix}dispatch_rss`, process.memoryUsage().rss / 1024 / 1024, "MiB", 1);
      report(`${prefix}dispatch_target_round_trips_per_s`, TARGET_ROUND_TRIPS_PER_S, "1/s", 0);
      report("concurrency", args.concurrency, "count", 0);
      report("pollers", args.pollers, "count", 0);
      report("runs", args.runs, "count", 0);
    } finally {
      for (const cleanup of cleanups.toReversed()) await cleanup().catch(() => {});
      await cleanupBuckets(coreBus, [registryBucket, controlBucket]);
      await coreBus.close();
    }
  },
};

async function cleanupBuckets(bus: Bus, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const kv = await bus.kv(name);
    await kv.destroy().catch(() => {});
  }
}
