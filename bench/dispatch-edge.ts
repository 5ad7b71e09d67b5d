/**
 * The edge side of the dispatch benchmark: a loopback TCP target, two real agents (monitoring.
 * AgentService over gRPC with mutual TLS, registered like `sonde agent --tenant …` does) and the
 * pollers calling them through the production GrpcAgentCaller. Runs in the benchmark's thread (in-process bus)
 * or, with NATS, in a worker thread of its own — pollers are separate processes in production, and a
 * thread of their own keeps core's and the pollers' CPU apart as that would.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { pino } from "pino";
import { createBus } from "../src/platform/bus/index.js";
import type { Bus } from "../src/platform/bus/types.js";
import { startPoller } from "../src/platform/fabric/poller.js";
import { registerComponent } from "../src/platform/fabric/registration.js";
import { GrpcAgentCaller } from "../src/grpc/agent-caller.js";
import { startAgent } from "../src/roles/agent.js";
import { ephemeralFabricTls } from "../src/roles/fabric-tls.js";
import { startLoopbackTarget } from "../test/support/tcp-agent-caller.js";

export interface EdgeParams {
  readonly tenant: string;
  readonly partition: string;
  readonly registryBucket: string;
  readonly controlBucket: string;
  readonly pollers: number;
  readonly maxInFlight: number;
  /** Pollers batch their concurrent calls to an agent (GrpcAgentCaller's coalesce). */
  readonly coalesce: boolean;
}

export interface Edge {
  /**
   * `host:port` of the loopback TCP targets the checks connect to: several, as real checks go to
   * many hosts; thousands of connections a second to one port would collide with their own
   * TIME_WAIT entries and stall on SYN retransmits.
   */
  readonly targets: readonly string[];
  stop(): Promise<void>;
}

const logger = pino({ level: "silent" });

export async function startEdge(bus: Bus, p: EdgeParams): Promise<Edge> {
  const targets = await Promise.all(Array.from({ length: 16 }, () => startLoopbackTarget()));
  const stops: Array<() => Promise<void>> = targets.map((t) => () => t.close());
  const stop = async () => {
    for (const s of stops.toReversed()) await s().catch(() => {});
  };
  try {
    const tls = await ephemeralFabricTls(p.tenant, { poller: "poller", agent: "agent" }, logger);
    for (const id of ["agent-1", "agent-2"]) {
      const agent = await startAgent({ listen: "127.0.0.1:0", agentId: id, tls: tls.server, logger });
      stops.push(() => agent.stop());
      const r = await registerComponent(
        bus,
        {
          kind: "agent",
          tenant: p.tenant,
          partition: p.partition,
          id,
          capabilities: ["tcp"],
          version: "bench",
          host: "localhost",
          address: agent.address,
        },
        { bucket: p.registryBucket },
      );
      stops.push(() => r.stop());
    }
    const caller = (pollerId: string) => {
      const c = new GrpcAgentCaller({ pollerId, tls: tls.client, logger, coalesce: p.coalesce });
      stops.push(async () => c.close());
      return c;
    };
    for (let i = 0; i < p.pollers; i++) {
      const poller = await startPoller(bus, {
        tenant: p.tenant,
        partition: p.partition,
        id: `poller-${i + 1}`,
        capabilities: ["tcp"],
        version: "bench",
        host: "localhost",
        agentCaller: caller(`poller-${i + 1}`),
        logger,
        maxInFlight: p.maxInFlight,
        registryBucket: p.registryBucket,
        controlBucket: p.controlBucket,
      });
      stops.push(() => poller.stop());
    }
    // Give the pollers' registry watches a moment to see the agents.
    await new Promise((r) => setTimeout(r, 200));
  } catch (err) {
    await stop();
    throw err;
  }
  return { targets: targets.map((t) => t.address), stop };
}

type ToWorker = { readonly kind: "stop" };
type FromWorker =
  | { readonly kind: "ready"; readonly targets: readonly string[] }
  | { readonly kind: "stopped" }
  | { readonly kind: "failed"; readonly message: string };

/** Runs startEdge in a worker thread on its own NATS connection. */
export async function startEdgeThread(natsUrl: string, p: EdgeParams): Promise<Edge> {
  // A worker does not inherit the TypeScript loader (Node 20): register tsx in it, then load this file.
  const boot = `import("tsx/esm/api").then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { natsUrl, params: p } });
  const next = () =>
    new Promise<FromWorker>((resolve, reject) => {
      worker.once("message", (m: FromWorker) => resolve(m));
      worker.once("error", reject);
    });
  const ready = await next();
  if (ready.kind !== "ready") {
    await worker.terminate();
    throw new Error(`edge thread: ${ready.kind === "failed" ? ready.message : ready.kind}`);
  }
  return {
    targets: ready.targets,
    async stop() {
      const stopped = next();
      worker.postMessage({ kind: "stop" } satisfies ToWorker);
      await stopped;
      await worker.terminate();
    },
  };
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  const { natsUrl, params } = workerData as { natsUrl: string; params: EdgeParams };
  try {
    const bus = await createBus({ name: "bench-dispatch-edge", logger, natsUrl });
    const edge = await startEdge(bus, params);
    port.once("message", (m: ToWorker) => {
      if (m.kind !== "stop") return;
      void edge
        .stop()
        .then(() => bus.close())
        .then(() => port.postMessage({ kind: "stopped" } satisfies FromWorker));
    });
    port.postMessage({ kind: "ready", targets: edge.targets } satisfies FromWorker);
  } catch (err) {
    port.postMessage({
      kind: "failed",
      message: err instanceof Error ? err.message : String(err),
    } satisfies FromWorker);
  }
}
