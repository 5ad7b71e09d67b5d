import { connect, createServer, type Server } from "node:net";
import type { AgentCaller, AgentOutcome } from "../../src/platform/fabric/agent-caller.js";
import type { RegistryEntry, WorkItem } from "../../src/platform/fabric/contract.js";

/**
 * TEST HELPER, not an agent: stands in for the gRPC AgentCaller by doing what an agent's TCP check
 * does — connect to `work.details` (`host:port`, loopback only) and report whether it answered —
 * in this process. It records which agent each work id was handed to, so tests can see the spread.
 */
export class TestTcpAgentCaller implements AgentCaller {
  readonly calls: Array<{ agent: string; work: string }> = [];

  /** `delayMs` holds each call before connecting, to have work in flight when a test needs it. */
  constructor(private readonly delayMs = 0) {}

  async call(agent: RegistryEntry, work: WorkItem, signal: AbortSignal): Promise<AgentOutcome> {
    this.calls.push({ agent: agent.id, work: work.id });
    if (this.delayMs > 0) await abortableSleep(this.delayMs, signal);
    const [host = "", portText = ""] = work.details.split(":");
    if (host !== "127.0.0.1")
      return { available: false, message: null, response_time_ns: 0, error: "loopback only" };
    const started = process.hrtime.bigint();
    return new Promise((resolve) => {
      const socket = connect({ host, port: Number(portText), signal });
      const done = (error: string | null) => {
        socket.destroy();
        const elapsed = Number(process.hrtime.bigint() - started);
        resolve({
          available: error === null,
          message: { agent: agent.id },
          response_time_ns: elapsed,
          error,
        });
      };
      socket.once("connect", () => done(null));
      socket.once("error", (err) => done(err.message));
    });
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new Error("aborted"));
      },
      { once: true },
    );
  });
}

/** A loopback TCP listener that accepts and closes: the target of the test checks. */
export async function startLoopbackTarget(): Promise<{ address: string; close(): Promise<void> }> {
  const server: Server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
