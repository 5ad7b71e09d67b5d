/**
 * The pollers' GrpcAgentCaller against a real agent on loopback gRPC: concurrent checks to one agent
 * are coalesced into GetResults batches and every caller still gets its own check's answer; a bad
 * check in a batch does not take the good ones with it; coalescing can be turned off.
 */
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcAgentCaller } from "../../src/grpc/agent-caller.js";
import type { RegistryEntry, WorkItem } from "../../src/platform/fabric/contract.js";
import { type RunningAgent, startAgent } from "../../src/roles/agent.js";
import { silentLogger } from "../support/databases.js";

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((s) => s.end());
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      resolve({ server, port: typeof a === "object" && a !== null ? a.port : 0 });
    });
  });
}

describe("GrpcAgentCaller", () => {
  let agent: RunningAgent;
  let open: { server: Server; port: number };
  let closedPort: number;
  let entry: RegistryEntry;

  beforeAll(async () => {
    agent = await startAgent({
      listen: "127.0.0.1:0",
      agentId: "agent-1",
      insecure: true,
      logger: silentLogger,
    });
    open = await listen();
    const closed = await listen();
    closedPort = closed.port;
    await new Promise<void>((r) => closed.server.close(() => r()));
    const now = new Date().toISOString();
    entry = {
      kind: "agent",
      tenant: "t",
      partition: "p",
      id: "agent-1",
      capabilities: ["tcp"],
      version: "t",
      host: "h",
      address: agent.address,
      mode: "active",
      startedAt: now,
      heartbeatAt: now,
    };
  });
  afterAll(async () => {
    await agent.stop();
    open.server.close();
  });

  const work = (i: number, details: string): WorkItem => ({
    id: `w${i}`,
    tenant: "t",
    partition: "p",
    capability: "tcp",
    service_name: `s${i}`,
    service_type: "port",
    details,
    port: 0,
    timeout_ms: 2_000,
    attempt: 1,
  });

  for (const coalesce of [true, false]) {
    it(`answers each of many concurrent checks with its own result (coalesce: ${coalesce})`, async () => {
      const caller = new GrpcAgentCaller({ pollerId: "p1", insecure: true, logger: silentLogger, coalesce });
      try {
        const items = Array.from({ length: 150 }, (_, i) =>
          work(i, `127.0.0.1:${i % 3 === 0 ? closedPort : open.port}`),
        );
        const outcomes = await Promise.all(
          items.map((w) => caller.call(entry, w, new AbortController().signal)),
        );
        outcomes.forEach((o, i) => {
          expect(o.error).toBeNull();
          expect(o.available).toBe(i % 3 !== 0);
          expect(o.message).toMatchObject({ host: "127.0.0.1", port: i % 3 === 0 ? closedPort : open.port });
        });
      } finally {
        caller.close();
      }
    });
  }

  it("a bad check in a batch fails alone; the others in the same batch are answered", async () => {
    const caller = new GrpcAgentCaller({ pollerId: "p1", insecure: true, logger: silentLogger });
    try {
      const outcomes = await Promise.all(
        [work(1, `127.0.0.1:${open.port}`), work(2, "no-port-here"), work(3, `127.0.0.1:${open.port}`)].map(
          (w) => caller.call(entry, w, new AbortController().signal),
        ),
      );
      expect(outcomes.map((o) => o.available)).toEqual([true, false, true]);
      expect(outcomes[1]?.error).toMatch(/^agent agent-1: InvalidArgument: /);
    } finally {
      caller.close();
    }
  });

  it("reports an agent that does not answer as unavailable with the reason", async () => {
    const caller = new GrpcAgentCaller({ pollerId: "p1", insecure: true, logger: silentLogger });
    try {
      const gone = { ...entry, address: `127.0.0.1:${closedPort}` };
      const outcome = await caller.call(
        gone,
        work(9, `127.0.0.1:${open.port}`),
        new AbortController().signal,
      );
      expect(outcome.available).toBe(false);
      expect(outcome.error).toMatch(/^agent agent-1: Unavailable/);
    } finally {
      caller.close();
    }
  });
});
