import { connect } from "node:net";
import { abortText, elapsedNs, errorText, type PortCheck, type ProbeResult } from "./types.js";

/**
 * TCP connect: available when the three-way handshake completes. The socket is destroyed at once
 * (no data, no FIN wait) so a check costs one connection and nothing lingers.
 */
export function tcpProbe(check: PortCheck, signal: AbortSignal): Promise<ProbeResult> {
  const start = process.hrtime.bigint();
  const result = (available: boolean, error?: string): ProbeResult => {
    const responseTimeNs = elapsedNs(start);
    return {
      available,
      responseTimeNs,
      message: { host: check.host, port: check.port, response_time: responseTimeNs, available },
      ...(error === undefined ? {} : { error }),
    };
  };
  if (signal.aborted) return Promise.resolve(result(false, abortText(signal)));
  return new Promise((resolve) => {
    const socket = connect({ host: check.host, port: check.port });
    const onAbort = () => {
      socket.destroy();
      resolve(result(false, abortText(signal)));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(result(true));
    });
    socket.once("error", (err) => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(result(false, errorText(err)));
    });
  });
}
