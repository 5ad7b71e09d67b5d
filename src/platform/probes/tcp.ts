import { connect } from "node:net";
import type { CheckContext } from "./context.js";
import { elapsedNs, errorText, type PortCheck, type ProbeResult } from "./types.js";

/**
 * TCP connect: available when the three-way handshake completes. The socket is destroyed at once
 * (no data, no FIN wait) so a check costs one connection and nothing lingers. It listens for the
 * abort through `onAbort`, not an AbortSignal: at loopback speed the signal would cost a tenth of
 * the check.
 */
export function tcpProbe(check: PortCheck, context: CheckContext): Promise<ProbeResult> {
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
  if (context.aborted) return Promise.resolve(result(false, context.reason));
  return new Promise((resolve) => {
    const socket = connect({ host: check.host, port: check.port });
    context.onAbort(() => {
      socket.destroy();
      resolve(result(false, context.reason));
    });
    socket.once("connect", () => {
      context.onAbort(undefined);
      socket.destroy();
      resolve(result(true));
    });
    socket.once("error", (err) => {
      context.onAbort(undefined);
      socket.destroy();
      resolve(result(false, errorText(err)));
    });
  });
}
