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
      let connectedNs: bigint | undefined;
      const done = (error: string | null) => {
        // A reset instead of a FIN handshake: no TIME_WAIT, so thousands of checks a second do not
        // collide with earlier connections' ports (each collision costs a 1 s SYN retransmit).
        if (error === null) socket.resetAndDestroy();
        else socket.destroy();
        const elapsed = Number((connectedNs ?? process.hrtime.bigint()) - started);
        resolve({
          available: error === null,
          message: { agent: agent.id },
          response_time_ns: elapsed,
          error,
        });
      };
      socket.once("connect", () => {
        connectedNs = process.hrtime.bigint();
      });
      // Up once connected, but finished only when the listener has taken the connection (its greeting):
      // a connection reset while still in the listen queue stays there until accepted, and thousands
      // of those overflow the queue, which drops SYNs (1 s retransmits).
      socket.once("data", () => done(null));
      socket.once("end", () => done(connectedNs === undefined ? "closed before connecting" : null));
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

/** A loopback TCP listener that greets each connection with one byte: the target of the test checks. */
export async function startLoopbackTarget(): Promise<{ address: string; close(): Promise<void> }> {
  const server: Server = createServer((socket) => {
    // Checks reset the connection once it is up; that is their normal goodbye, not an error.
    socket.on("error", () => socket.destroy());
    socket.on("end", () => socket.end());
    socket.write("+");
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
