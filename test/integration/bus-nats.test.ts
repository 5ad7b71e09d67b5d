import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import { isSondeError } from "../../src/lib/errors.js";
import { createBus } from "../../src/platform/bus/index.js";
import { parseNatsUrl } from "../../src/platform/bus/nats-connect.js";
import { busContract } from "../contract/bus.contract.js";
import { reachable, servicesRequired, TEST_NATS_URL } from "../support/services.js";

const logger = pino({ level: "silent" });
const target = parseNatsUrl(TEST_NATS_URL);
const natsUp = await reachable(TEST_NATS_URL, 4222);

/** Deletes the streams (KV buckets are streams too) of one contract run and checks none survive. */
async function removeLeftovers(runId: string): Promise<void> {
  const nc = await connect({
    servers: [...target.servers],
    ...(target.user === undefined ? {} : { user: target.user, pass: target.pass }),
    ...(target.token === undefined ? {} : { token: target.token }),
  });
  try {
    const jsm = await jetstreamManager(nc);
    const ours = async () => {
      const names: string[] = [];
      for await (const name of jsm.streams.names()) if (name.includes(runId)) names.push(name);
      return names;
    };
    for (const name of await ours()) await jsm.streams.delete(name);
    expect(await ours()).toEqual([]);
  } finally {
    await nc.close();
  }
}

if (natsUp) {
  busContract("nats", () => createBus({ natsUrl: TEST_NATS_URL, name: "sonde-bus-test", logger }), {
    cleanup: removeLeftovers,
  });
} else if (servicesRequired) {
  describe("bus contract: nats", () => {
    beforeAll(() => {
      throw new Error(`REQUIRE_SERVICES=1 but NATS is not reachable at ${target.display}`);
    });
    it("runs against a live NATS server", () => {});
  });
} else {
  process.stderr.write(
    `[skip] NATS is not reachable at ${target.display}: the NATS bus contract is skipped\n`,
  );
  describe.skip(`bus contract: nats (skipped: NATS is not reachable at ${target.display}; REQUIRE_SERVICES=1 makes this a failure)`, () => {
    it("runs against a live NATS server", () => {});
  });
}

describe("createBus with a NATS URL", () => {
  it("raises SONDE_BUS_UNREACHABLE after bounded retries, without the credentials", async () => {
    let caught: unknown;
    const started = Date.now();
    try {
      await createBus({
        natsUrl: "nats://sonde:s3cret@127.0.0.1:1",
        name: "t",
        logger,
        connectAttempts: 3,
        connectInitialDelayMs: 20,
      });
    } catch (err) {
      caught = err;
    }
    expect(isSondeError(caught, "SONDE_BUS_UNREACHABLE")).toBe(true);
    const message = caught instanceof Error ? caught.message : "";
    expect(message).toMatch(/^cannot reach NATS at nats:\/\/127\.0\.0\.1:1: /);
    expect(message).not.toContain("s3cret");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("refuses URL schemes the Node transport cannot serve", async () => {
    let caught: unknown;
    try {
      await createBus({ natsUrl: "ws://127.0.0.1:8080", name: "t", logger });
    } catch (err) {
      caught = err;
    }
    expect(isSondeError(caught, "SONDE_CONFIG_INVALID")).toBe(true);
  });

  it("parses several URLs and lifts credentials out of them", () => {
    const t = parseNatsUrl("nats://u:p%40ss@a.example:4333, tls://b.example");
    expect(t.servers).toEqual(["a.example:4333", "b.example:4222"]);
    expect(t).toMatchObject({ user: "u", pass: "p@ss", token: undefined, tls: true });
    expect(t.display).toBe("nats://a.example:4333,tls://b.example:4222");
    expect(parseNatsUrl("nats://tok3n@h").token).toBe("tok3n");
  });
});
