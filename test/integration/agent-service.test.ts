import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import pino from "pino";
import { pingGate } from "../support/services.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentClient, type AgentClient } from "../../src/grpc/agent-client.js";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { MAX_CHUNK_BYTES } from "../../src/grpc/batch.js";
import { Health, HealthCheckResponse_ServingStatus } from "../../src/grpc/gen/grpc/health/v1/health_pb.js";
import { AgentService } from "../../src/grpc/gen/monitoring/monitoring_pb.js";
import { grpcHealthProbe } from "../../src/grpc/health-probe.js";
import { contextFor, parseCheck } from "../../src/platform/probes/index.js";
import { type RunningAgent, startAgent } from "../../src/roles/agent.js";
import { waitFor } from "../support/wait.js";

const logger = pino({ level: "silent" });

async function listener(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.destroy());
  // A deep accept queue: batches open hundreds of connections at once.
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port };
}

async function closedPort(): Promise<number> {
  const { server, port } = await listener();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ConnectError) return err;
    throw err;
  }
  throw new Error("expected the call to fail");
}

describe("monitoring.AgentService over loopback gRPC", () => {
  let agent: RunningAgent;
  let client: AgentClient;
  let open: { server: Server; port: number };
  let closed: number;

  beforeAll(async () => {
    open = await listener();
    closed = await closedPort();
    agent = await startAgent({
      listen: "127.0.0.1:0",
      agentId: "agent-1",
      insecure: true,
      logger,
      maxBatchChecks: 5000,
      checkTimeoutMs: 5000,
      concurrency: 100,
    });
    client = createAgentClient({ address: agent.address, insecure: true, timeoutMs: 20_000 });
  });
  afterAll(async () => {
    client.close();
    await agent.stop();
    await new Promise<void>((resolve) => open.server.close(() => resolve()));
  });

  it("GetStatus port: an open port is available, with the ServiceRadar message and echoes", async () => {
    const answer = await client.getStatus({
      serviceName: "ssh",
      serviceType: "port",
      details: `127.0.0.1:${open.port}`,
      pollerId: "poller-7",
    });
    expect(answer.available).toBe(true);
    expect(answer.message).toEqual({
      host: "127.0.0.1",
      port: open.port,
      response_time: answer.responseTimeNs,
      available: true,
    });
    expect(answer.responseTimeNs).toBeGreaterThan(0);
    expect(answer.raw.serviceName).toBe("ssh");
    expect(answer.raw.serviceType).toBe("port");
    expect(answer.raw.agentId).toBe("agent-1");
    expect(answer.raw.pollerId).toBe("poller-7");
  });

  it("GetStatus port: a closed port is a result (available false), not an error", async () => {
    const answer = await client.getStatus({ serviceType: "port", details: `127.0.0.1:${closed}` });
    expect(answer.available).toBe(false);
    expect(answer.message).toMatchObject({ host: "127.0.0.1", port: closed, available: false });
  });

  it("GetStatus port accepts the host in details and the port in the port field", async () => {
    const answer = await client.getStatus({ serviceType: "port", details: "127.0.0.1", port: open.port });
    expect(answer.available).toBe(true);
  });

  it.runIf(pingGate().run)(
    "GetStatus icmp reports host, response_time, packet_loss and available",
    async () => {
      const answer = await client.getStatus({ serviceType: "icmp", details: "127.0.0.1" });
      const message = answer.message as Record<string, unknown>;
      expect(Object.keys(message)).toEqual(
        expect.arrayContaining(["host", "response_time", "packet_loss", "available"]),
      );
      expect(message.host).toBe("127.0.0.1");
      // The test machines have fping and ping (.ci/run installs them); the "unavailable" path is
      // tested in probes.test.ts with binaries that do not exist.
      expect(message).toMatchObject({ available: true, packet_loss: 0 });
      expect(answer.available).toBe(true);
      expect(answer.responseTimeNs).toBeGreaterThan(0);
    },
  );

  it("GetStatus with bad details is INVALID_ARGUMENT with a clear message", async () => {
    const bad = await rejection(client.getStatus({ serviceType: "port", details: "no-port-here" }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.rawMessage).toContain('details must be "host:port"');
    expect(bad.metadata.get("sonde-error-code")).toBe("SONDE_VALIDATION_FAILED");
    const unknown = await rejection(client.getStatus({ serviceType: "telepathy", details: "x" }));
    expect(unknown.code).toBe(Code.InvalidArgument);
    expect(unknown.rawMessage).toContain("unknown service_type");
    const json = await rejection(client.getStatus({ serviceType: "dns", details: '{"name": 3}' }));
    expect(json.code).toBe(Code.InvalidArgument);
    expect(json.rawMessage).toContain("name");
  });

  it("GetResults runs a batch and returns one result per check, in order", async () => {
    const answer = await client.getResults({
      pollerId: "poller-7",
      checks: [
        { service_name: "open", service_type: "port", details: `127.0.0.1:${open.port}` },
        { service_name: "closed", service_type: "port", details: `127.0.0.1:${closed}`, timeout_ms: 1000 },
      ],
    });
    expect(answer.results.map((r) => [r.service_name, r.available])).toEqual([
      ["open", true],
      ["closed", false],
    ]);
    expect(answer.results[1]?.error).toBeTruthy();
    expect(answer.raw?.hasNewData).toBe(true);
    expect(answer.raw?.agentId).toBe("agent-1");
    expect(answer.raw?.sweepCompletion?.totalTargets).toBe(2);
    expect(Number(answer.currentSequence)).toBeGreaterThan(0);
  });

  it("a batch with one bad entry is refused as a whole, naming the entry", async () => {
    const err = await rejection(
      client.getResults({
        checks: [
          { service_type: "port", details: `127.0.0.1:${open.port}` },
          { service_type: "port", details: "nonsense" },
        ],
      }),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toContain("checks.1");
  });

  it("a batch larger than the maximum is refused with RESOURCE_EXHAUSTED", async () => {
    const checks = Array.from({ length: 5001 }, () => ({
      service_type: "port",
      details: `127.0.0.1:${open.port}`,
    }));
    const err = await rejection(client.getResults({ checks }));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.rawMessage).toContain("larger than this agent's maximum of 5000");
    expect(err.metadata.get("sonde-error-code")).toBe("SONDE_PAYLOAD_TOO_LARGE");
  });

  it("StreamResults splits a large batch into chunks of at most 1 MiB and the client reassembles them", async () => {
    // Long service names make each result large, so that 4000 checks need several 1 MiB chunks.
    const checks = Array.from({ length: 4000 }, (_, i) => ({
      service_name: `svc-${i}-${"x".repeat(240)}`,
      service_type: "port",
      details: `127.0.0.1:${open.port}`,
    }));
    const sizes: number[] = [];
    const raw = createClient(AgentService, createGrpcTransport({ baseUrl: `http://${agent.address}` }));
    const chunks = [];
    for await (const chunk of raw.streamResults({ details: JSON.stringify({ checks }) })) {
      chunks.push(chunk);
      sizes.push(chunk.data.length);
    }
    expect(chunks.length).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
    expect(chunks.map((c) => c.chunkIndex)).toEqual(chunks.map((_, i) => i));
    expect(chunks.every((c) => c.totalChunks === chunks.length)).toBe(true);
    expect(chunks.map((c) => c.isFinal)).toEqual(chunks.map((_, i) => i === chunks.length - 1));
    expect(new Set(chunks.map((c) => c.currentSequence)).size).toBe(1);

    const answer = await client.streamResults({ checks });
    expect(answer.chunks).toBeGreaterThan(1);
    expect(answer.results).toHaveLength(4000);
    expect(answer.results.filter((r) => !r.available).map((r) => r.error)).toEqual([]);
    expect(answer.results[3999]?.service_name).toBe(checks[3999]?.service_name);
  });

  it("StreamResults of a small batch is one final chunk", async () => {
    const answer = await client.streamResults({
      checks: [{ service_type: "port", details: `127.0.0.1:${open.port}` }],
    });
    expect(answer.chunks).toBe(1);
    expect(answer.results).toHaveLength(1);
  });

  it("deadlines apply: a call whose deadline passes fails DEADLINE_EXCEEDED", async () => {
    // A black-holed address would be slow to fail by itself; a 1 ms deadline on a batch fails first.
    const checks = Array.from({ length: 2000 }, () => ({
      service_type: "port",
      details: `127.0.0.1:${open.port}`,
    }));
    const err = await rejection(client.getResults({ checks }, { timeoutMs: 1 }));
    expect(err.code).toBe(Code.DeadlineExceeded);
  });
});

describe("agent health and graceful stop", () => {
  it("answers grpc.health.v1 for the server and monitoring.AgentService", async () => {
    const agent = await startAgent({ listen: "127.0.0.1:0", agentId: "agent-h", insecure: true, logger });
    try {
      for (const service of ["", "monitoring.AgentService"]) {
        const check = parseCheck({
          serviceType: "grpc",
          details: JSON.stringify({ address: agent.address, service }),
        });
        const result = await grpcHealthProbe(check as never, contextFor(AbortSignal.timeout(5_000)));
        expect(result.available).toBe(true);
      }
    } finally {
      await agent.stop();
    }
  });

  it("ends a health Watch promptly when the agent stops", async () => {
    const agent = await startAgent({ listen: "127.0.0.1:0", agentId: "agent-w", insecure: true, logger });
    const health = createClient(Health, createGrpcTransport({ baseUrl: `http://${agent.address}` }));
    const statuses: string[] = [];
    const watching = (async () => {
      for await (const update of health.watch({ service: "monitoring.AgentService" })) {
        statuses.push(HealthCheckResponse_ServingStatus[update.status] ?? "?");
      }
    })().catch(() => undefined);
    await waitFor(() => statuses.length > 0, 5_000, "the first health update");
    expect(statuses[0]).toBe("SERVING");
    const t0 = Date.now();
    await agent.stop();
    await watching;
    // The drain allows 5 s for running calls; a Watch must not hold the stop that long.
    expect(Date.now() - t0).toBeLessThan(4_000);
  });

  it("lets a running call finish on stop, then refuses new connections", async () => {
    // A server that accepts and never answers holds an HTTP check until its timeout.
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as AddressInfo).port;
    const agent = await startAgent({ listen: "127.0.0.1:0", agentId: "agent-s", insecure: true, logger });
    const client = createAgentClient({ address: agent.address, insecure: true, timeoutMs: 10_000 });
    try {
      const running = client.getResults({
        checks: [{ service_type: "http", details: `http://127.0.0.1:${port}/`, timeout_ms: 400 }],
      });
      await waitFor(() => held.length > 0, 5_000, "the check to connect");
      await agent.stop();
      const answer = await running;
      expect(answer.results[0]).toMatchObject({ available: false, error: "timed out after 400 ms" });
      const after = createAgentClient({ address: agent.address, insecure: true, timeoutMs: 2_000 });
      try {
        await expect(
          after.getStatus({ serviceType: "port", details: `127.0.0.1:${port}` }),
        ).rejects.toThrow();
      } finally {
        after.close();
      }
    } finally {
      client.close();
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
