import { connect } from "node:net";
import { checksBench } from "./checks.js";
import { dispatchBench } from "./dispatch.js";
import type { Benchmark } from "./registry.js";

/** Whether a NATS server answers where the dispatch benchmark would look for one. */
function natsReachable(): Promise<boolean> {
  const url = new URL(process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222");
  return new Promise((resolve) => {
    const socket = connect(Number(url.port || 4222), url.hostname);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * The polling fabric's figures in one run: one agent's TCP checks/s against the bare `net.connect`
 * ceiling (checks.ts; positional arguments go there), then dispatch round trips core → poller → agent
 * → core on the in-process bus and, when a server answers, through NATS (dispatch.ts).
 */
export const checksSuite: Benchmark = {
  description:
    "agent TCP checks/s vs a net.connect ceiling, then dispatch round trips core → poller → agent → core (in-process, and NATS when reachable)",
  async run(args) {
    await checksBench.run(args);
    await dispatchBench.run([]);
    if (await natsReachable()) await dispatchBench.run(["--nats"]);
    else process.stderr.write("checks: NATS not reachable; the NATS dispatch figures are left out\n");
  },
};
