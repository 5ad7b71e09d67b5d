import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createBus } from "../../src/platform/bus/index.js";
import { parseNatsUrl } from "../../src/platform/bus/nats-connect.js";
import { RESULTS_STREAM } from "../../src/platform/fabric/results.js";
import { fabricContract } from "../contract/fabric.contract.js";
import { serviceGate, TEST_NATS_URL } from "../support/services.js";

const logger = pino({ level: "silent" });
const gate = serviceGate("nats");

/**
 * Removes one run's buckets (KV buckets are streams) and its durables on SONDE_RESULTS, and checks
 * none survive. The results stream itself is shared and kept.
 */
async function removeLeftovers(runId: string): Promise<void> {
  const target = parseNatsUrl(TEST_NATS_URL);
  const nc = await connect({
    servers: [...target.servers],
    ...(target.user === undefined ? {} : { user: target.user, pass: target.pass }),
    ...(target.token === undefined ? {} : { token: target.token }),
  });
  try {
    const jsm = await jetstreamManager(nc);
    const streams = async () => {
      const names: string[] = [];
      for await (const name of jsm.streams.names()) if (name.includes(runId)) names.push(name);
      return names;
    };
    const durables = async () => {
      const names: string[] = [];
      for await (const c of jsm.consumers.list(RESULTS_STREAM.name)) {
        if (c.name.includes(runId)) names.push(c.name);
      }
      return names;
    };
    for (const name of await streams()) await jsm.streams.delete(name);
    for (const name of await durables()) await jsm.consumers.delete(RESULTS_STREAM.name, name);
    expect(await streams()).toEqual([]);
    expect(await durables()).toEqual([]);
  } finally {
    await nc.close();
  }
}

if (gate.run) {
  fabricContract("nats", () => createBus({ natsUrl: TEST_NATS_URL, name: "sonde-fabric-test", logger }), {
    cleanup: removeLeftovers,
  });
} else {
  describe.skip("polling fabric: nats (NATS is not reachable; REQUIRE_SERVICES=1 makes this a failure)", () => {
    it("runs against a live NATS server", () => {});
  });
}
