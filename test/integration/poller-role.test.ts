import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { isSondeError } from "../../src/lib/errors.js";
import { createBus } from "../../src/platform/bus/index.js";
import { loadConfig } from "../../src/platform/config/index.js";
import {
  dispatchReplySchema,
  dispatchSubject,
  REGISTRY_BUCKET,
  registryEntrySchema,
} from "../../src/platform/fabric/contract.js";
import { componentIdFromNode } from "../../src/roles/poller.js";
import { startProcess } from "../../src/roles/process.js";
import { serviceGate, TEST_NATS_URL } from "../support/services.js";
import { TestTcpAgentCaller } from "../support/tcp-agent-caller.js";
import { waitFor } from "../support/wait.js";

const logger = pino({ level: "silent" });

describe("componentIdFromNode", () => {
  it("turns a host name into a valid component id", () => {
    expect(componentIdFromNode("poller-1.example.net")).toBe("poller-1-example-net");
    expect(componentIdFromNode("")).toBe("poller");
    expect(componentIdFromNode("x".repeat(300))).toHaveLength(128);
  });
});

// The poller role runs on its own only with NATS (the in-process bus connects roles of one process).
describe.runIf(serviceGate("nats").run)("the poller role in a process", () => {
  const tenant = `r${randomBytes(4).toString("hex")}`;
  const config = loadConfig({
    env: { NATS_URL: TEST_NATS_URL, PORT: "0", HOST: "127.0.0.1", SONDE_NODE_NAME: "role.test" },
    createSecret: false,
  });
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.toReversed()) await c();
  });

  it("registers under the node name, answers dispatch, and deregisters on shutdown", async () => {
    const running = await startProcess(["poller"], config, logger, {
      poller: { tenant, partition: "p1" },
      agentCaller: new TestTcpAgentCaller(),
    });
    cleanup.push(async () => void (await running.shutdown("test")));
    const bus = await createBus({ natsUrl: TEST_NATS_URL, name: "role-test", logger });
    cleanup.push(() => bus.close());
    const registry = await bus.kv(REGISTRY_BUCKET);
    const key = `${tenant}.poller.p1.role-test`;
    const entry = registryEntrySchema.parse((await registry.get(key))?.json());
    expect(entry).toMatchObject({ kind: "poller", tenant, partition: "p1", id: "role-test", mode: "active" });
    // No agent registered for this tenant: the poller answers, and refuses for want of one.
    const work = {
      id: "w1",
      tenant,
      partition: "p1",
      capability: "tcp",
      service_name: "s",
      service_type: "port",
      details: "127.0.0.1:1",
    };
    const reply = await bus.request(dispatchSubject(tenant, "p1"), JSON.stringify(work), {
      timeoutMs: 5_000,
    });
    expect(dispatchReplySchema.parse(reply.json())).toMatchObject({ accepted: false, reason: "no_agent" });
    expect(await running.shutdown("test")).toBe(true);
    await waitFor(async () => (await registry.get(key)) === null, 5_000, "deregistration");
  });

  it("refuses to take work without an agent transport", async () => {
    let caught: unknown;
    try {
      await startProcess(["poller"], config, logger, { poller: { tenant, partition: "p2" } });
    } catch (err) {
      caught = err;
    }
    expect(isSondeError(caught, "SONDE_CONFIG_INVALID")).toBe(true);
  });
});
