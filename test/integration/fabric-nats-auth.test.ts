import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connect, type NatsConnection, PermissionViolationError } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBus } from "../../src/platform/bus/index.js";
import type { Bus, KvEntry } from "../../src/platform/bus/types.js";
import { writeOutputFiles } from "../../src/platform/fabric/certs/index.js";
import { CONTROL_BUCKET, dispatchSubject, REGISTRY_BUCKET } from "../../src/platform/fabric/contract.js";
import {
  AUTH_FILE,
  CORE_CREDENTIALS,
  planNatsAuth,
  tenantCredentials,
  tenantInboxPrefix,
} from "../../src/platform/fabric/nats-auth/index.js";
import { GrpcAgentCaller } from "../../src/grpc/agent-caller.js";
import type { WorkResult } from "../../src/platform/fabric/contract.js";
import { Dispatcher } from "../../src/platform/fabric/dispatcher.js";
import { startPoller } from "../../src/platform/fabric/poller.js";
import { registerComponent } from "../../src/platform/fabric/registration.js";
import { consumeResults } from "../../src/platform/fabric/results.js";
import { startAgent } from "../../src/roles/agent.js";
import { tempDir } from "../support/fabric-pki.js";
import { startLoopbackTarget } from "../support/tcp-agent-caller.js";
import { freePort, type NatsServerProcess, startNatsServer } from "../support/nats-server.js";

/**
 * The generated authorization, enforced by a real nats-server 2.9 (started here on a free loopback
 * port with JetStream in a temporary store): tenant a's pollers and agents reach their own subjects
 * and keys through Sonde's bus adapter, and the server refuses tenant b's.
 */

/** The buses' warnings and errors (a refused subscription is logged, not thrown), shown on failure. */
const busLog: string[] = [];
const logger = pino({ level: "warn" }, { write: (line: string) => void busLog.push(line) });

function urlIn(dir: string, file: string): string {
  const line = readFileSync(join(dir, file), "utf8")
    .split("\n")
    .find((l) => l.startsWith("NATS_URL="));
  if (line === undefined) throw new Error(`${file} has no NATS_URL`);
  return line.slice("NATS_URL=".length);
}

function credentials(url: string): { user: string; pass: string } {
  const u = new URL(url);
  return { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) };
}

let dir: string;
let server: NatsServerProcess;
let core: Bus;
let a: Bus;
let b: Bus;
const raw: NatsConnection[] = [];

beforeAll(async () => {
  dir = tempDir("nats-auth");
  const port = await freePort();
  const plan = planNatsAuth({
    dir,
    tenants: ["a", "b"],
    serverUrl: `nats://127.0.0.1:${port}`,
    rotate: false,
  });
  writeOutputFiles(dir, plan.files, { force: false });
  server = await startNatsServer(dir, `include ./${AUTH_FILE}`, port);
  core = await createBus({ natsUrl: urlIn(dir, CORE_CREDENTIALS), name: "core", logger, connectAttempts: 1 });
  const tenantBus = (t: string) =>
    createBus({
      natsUrl: urlIn(dir, tenantCredentials(t)),
      name: `poller-${t}`,
      logger,
      connectAttempts: 1,
      inboxPrefix: tenantInboxPrefix(t),
    });
  a = await tenantBus("a");
  b = await tenantBus("b");
  // Core owns the shared buckets and the results stream; tenants only open them.
  await core.kv(REGISTRY_BUCKET, { ttlMs: 15_000 });
  await core.kv(CONTROL_BUCKET);
  await core.ensureStream({ name: "SONDE_RESULTS", subjects: ["sonde.*.results.>"] });
}, 60_000);

afterAll(async () => {
  for (const nc of raw) await nc.close().catch(() => undefined);
  for (const bus of [a, b, core]) await bus?.close().catch(() => undefined);
  await server?.stop();
});

/** A raw client with tenant a's credentials, to observe the server's own refusals. */
async function rawTenantA(): Promise<{ nc: NatsConnection; errors: PermissionViolationError[] }> {
  const nc = await connect({
    servers: [`127.0.0.1:${server.port}`],
    ...credentials(urlIn(dir, tenantCredentials("a"))),
    inboxPrefix: tenantInboxPrefix("a"),
    timeout: 2_000,
  });
  raw.push(nc);
  const errors: PermissionViolationError[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error" && s.error instanceof PermissionViolationError) errors.push(s.error);
    }
  })();
  return { nc, errors };
}

async function until<T>(probe: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("generated files", () => {
  it("writes the fragment and every credentials file 0600, and keeps passwords on a re-run", () => {
    for (const f of [AUTH_FILE, CORE_CREDENTIALS, tenantCredentials("a"), tenantCredentials("b")]) {
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    }
    const conf = readFileSync(join(dir, AUTH_FILE), "utf8");
    expect(conf).toContain('user: "sonde-tenant-a"');
    expect(conf).toContain(
      `password: ${JSON.stringify(credentials(urlIn(dir, tenantCredentials("a"))).pass)}`,
    );
    expect(readFileSync(join(dir, tenantCredentials("a")), "utf8")).toContain(
      "NATS_INBOX_PREFIX=_INBOX.sonde.a\n",
    );

    const again = planNatsAuth({ dir, tenants: ["a", "b", "c"], serverUrl: server.url, rotate: false });
    expect(again.users.map((u) => [u.user, u.kept])).toEqual([
      ["sonde-core", true],
      ["sonde-tenant-a", true],
      ["sonde-tenant-b", true],
      ["sonde-tenant-c", false],
    ]);
    const rotated = planNatsAuth({ dir, tenants: ["a"], serverUrl: server.url, rotate: true });
    expect(rotated.users.every((u) => !u.kept)).toBe(true);
    const newA = rotated.files.find((f) => f.name === tenantCredentials("a"))?.content ?? "";
    expect(newA).not.toContain(credentials(urlIn(dir, tenantCredentials("a"))).pass);
  });

  it("needs the tenant's inbox prefix: with the default _INBOX no reply can reach tenant a", async () => {
    await expect(
      createBus({
        natsUrl: urlIn(dir, tenantCredentials("a")),
        name: "no-prefix",
        logger,
        connectAttempts: 1,
      }),
    ).rejects.toMatchObject({
      code: "SONDE_BUS_UNREACHABLE",
      message: expect.stringMatching(/Permissions Violation/i),
    });
  });

  it("rejects a wrong password", async () => {
    await expect(
      connect({
        servers: [`127.0.0.1:${server.port}`],
        user: "sonde-tenant-a",
        pass: "wrong",
        timeout: 2_000,
      }),
    ).rejects.toThrow(/Authorization Violation/i);
  });
});

describe("tenant a on its own subjects", () => {
  it("subscribes and publishes on sonde.a.dispatch.p1", async () => {
    const got: string[] = [];
    const sub = a.subscribe(dispatchSubject("a", "p1"), (m) => void got.push(m.text()));
    await a.ping(); // the server has the subscription before core publishes
    await a.publish(dispatchSubject("a", "p1"), "from a");
    await core.publish(dispatchSubject("a", "p1"), "from core");
    await until(
      () => (got.length === 2 ? got : undefined),
      `two messages (got ${got.join()}; ${busLog.join("")})`,
    );
    expect(got.sort()).toEqual(["from a", "from core"]);
    await sub.unsubscribe();
  });

  it("answers core's dispatch requests (queue group) and gets answers to its own requests", async () => {
    const poller = a.subscribe(dispatchSubject("a", "p1"), (m) => m.respond(`accepted ${m.text()}`), {
      queue: "pollers",
    });
    await a.ping();
    const reply = await core.request(dispatchSubject("a", "p1"), "work-1", { timeoutMs: 5_000 });
    expect(reply.text()).toBe("accepted work-1");
    await poller.unsubscribe();

    const coreSide = core.subscribe("sonde.a.hello", (m) => m.respond("hello a"));
    await core.ping();
    expect((await a.request("sonde.a.hello", "hi", { timeoutMs: 5_000 })).text()).toBe("hello a");
    await coreSide.unsubscribe();
  });

  it("publishes results into the shared JetStream stream, only under its own tenant", async () => {
    const ack = await a.streamPublish("sonde.a.results.p1", "{}");
    expect(ack.stream).toBe("SONDE_RESULTS");
    await expect(a.streamPublish("sonde.b.results.p1", "{}")).rejects.toMatchObject({
      code: "SONDE_BUS_PERMISSION_DENIED",
    });
  });
});

describe("tenant a refused on tenant b's subjects", () => {
  it("cannot subscribe to sonde.b.dispatch.p1, nor to wildcards over other tenants or inboxes", async () => {
    const { nc, errors } = await rawTenantA();
    for (const subject of [
      "sonde.b.dispatch.p1",
      "sonde.*.dispatch.p1",
      "sonde.>",
      "_INBOX.>",
      "_INBOX.sonde.b.>",
    ]) {
      const sub = nc.subscribe(subject);
      const closed = await Promise.race([sub.closed, sleep(5_000, "still open")]);
      expect(closed, subject).toBeInstanceOf(PermissionViolationError);
      expect((closed as PermissionViolationError).operation).toBe("subscription");
    }
    expect(errors.map((e) => e.subject)).toContain("sonde.b.dispatch.p1");
  });

  it("cannot publish to sonde.b.dispatch.p1: the server drops it and says so", async () => {
    const received: string[] = [];
    const sub = b.subscribe(dispatchSubject("b", "p1"), (m) => void received.push(m.text()));
    await b.ping();
    const { nc, errors } = await rawTenantA();
    nc.publish(dispatchSubject("b", "p1"), "intrusion");
    await until(() => errors.find((e) => e.operation === "publish"), "the publish violation");
    expect(errors[0]?.subject).toBe("sonde.b.dispatch.p1");
    // b's own message arrives, a's never did.
    await b.publish(dispatchSubject("b", "p1"), "marker");
    await until(() => (received.includes("marker") ? true : undefined), "b's marker");
    expect(received).toEqual(["marker"]);
    await sub.unsubscribe();
  });

  it("cannot send requests to tenant b's pollers through the bus adapter", async () => {
    const poller = b.subscribe(dispatchSubject("b", "p1"), (m) => m.respond("accepted"), {
      queue: "pollers",
    });
    await b.ping();
    await expect(a.request(dispatchSubject("b", "p1"), "work", { timeoutMs: 3_000 })).rejects.toMatchObject({
      code: "SONDE_BUS_PERMISSION_DENIED",
    });
    expect((await core.request(dispatchSubject("b", "p1"), "work", { timeoutMs: 3_000 })).text()).toBe(
      "accepted",
    );
    await poller.unsubscribe();
  });
});

describe("registry and control buckets", () => {
  it("lets tenant a read and write its own registry keys and nothing of tenant b's", async () => {
    const coreRegistry = await core.kv(REGISTRY_BUCKET, { ttlMs: 15_000 });
    const registryB = await b.kv(REGISTRY_BUCKET, { bind: true });
    await registryB.put("b.poller.p1.b1", "secret-of-b");
    const registry = await a.kv(REGISTRY_BUCKET, { bind: true });
    await registry.put("a.poller.p1.a1", "entry-of-a");
    expect((await registry.get("a.poller.p1.a1"))?.text()).toBe("entry-of-a");
    expect(await registry.keys("a.>")).toEqual(["a.poller.p1.a1"]);
    expect((await coreRegistry.get("b.poller.p1.b1"))?.text()).toBe("secret-of-b");

    await expect(registry.get("b.poller.p1.b1")).rejects.toMatchObject({
      code: "SONDE_BUS_PERMISSION_DENIED",
    });
    await expect(registry.put("b.poller.p1.x", "forged")).rejects.toMatchObject({
      code: "SONDE_BUS_PERMISSION_DENIED",
    });
    await expect(registry.delete("b.poller.p1.b1")).rejects.toMatchObject({
      code: "SONDE_BUS_PERMISSION_DENIED",
    });
    await expect(registry.keys()).rejects.toMatchObject({ code: "SONDE_BUS_PERMISSION_DENIED" });
    await expect(registry.keys("b.>")).rejects.toMatchObject({ code: "SONDE_BUS_PERMISSION_DENIED" });
    await expect(registry.watch(() => undefined, { key: "b.>" })).rejects.toMatchObject({
      code: "SONDE_BUS_PERMISSION_DENIED",
    });
    expect((await coreRegistry.get("b.poller.p1.b1"))?.text()).toBe("secret-of-b");
    expect(await coreRegistry.get("b.poller.p1.x")).toBeNull();
  });

  it("lets tenant a watch its own keys", async () => {
    const registry = await a.kv(REGISTRY_BUCKET, { bind: true });
    const seen: KvEntry[] = [];
    const watcher = await registry.watch((e) => void seen.push(e), { key: "a.>" });
    await registry.put("a.agent.p1.ag1", "agent");
    await until(() => seen.find((e) => e.key === "a.agent.p1.ag1"), "the watched put");
    await watcher.stop();
  });

  it("lets tenant a read its control keys, which only core writes", async () => {
    const coreControl = await core.kv(CONTROL_BUCKET);
    await coreControl.put("a.poller.p1.a1", "maintenance");
    await coreControl.put("b.poller.p1.b1", "draining");
    const control = await a.kv(CONTROL_BUCKET, { bind: true });
    expect((await control.get("a.poller.p1.a1"))?.text()).toBe("maintenance");
    await expect(control.get("b.poller.p1.b1")).rejects.toMatchObject({
      code: "SONDE_BUS_PERMISSION_DENIED",
    });
    await expect(control.put("a.poller.p1.a1", "active")).rejects.toMatchObject({
      code: "SONDE_BUS_PERMISSION_DENIED",
    });
  });

  it("cannot read the buckets' stream info (it would list every tenant's keys) nor change their settings", async () => {
    // Opening without bind reads the stream info (and may update the stream): both refused.
    await expect(a.kv(REGISTRY_BUCKET)).rejects.toMatchObject({ code: "SONDE_BUS_PERMISSION_DENIED" });
    await expect(a.kv(REGISTRY_BUCKET, { ttlMs: 1_000 })).rejects.toMatchObject({
      code: "SONDE_BUS_PERMISSION_DENIED",
    });
    const { nc } = await rawTenantA();
    await expect(
      nc.request("$JS.API.STREAM.INFO.KV_sonde-registry", JSON.stringify({ subjects_filter: ">" }), {
        timeout: 3_000,
      }),
    ).rejects.toThrow(/Permissions Violation for Publish to "\$JS\.API\.STREAM\.INFO\.KV_sonde-registry"/);
  });
});

describe("the fabric with tenant a's NATS user", () => {
  it("registers an agent and a poller, which take core's dispatched work and publish its result", async () => {
    const target = await startLoopbackTarget();
    const agent = await startAgent({ listen: "127.0.0.1:0", agentId: "agent-a1", insecure: true, logger });
    // bind: the tenant's user may not create or describe the buckets and stream core made.
    const registration = await registerComponent(
      a,
      {
        kind: "agent",
        tenant: "a",
        partition: "p1",
        id: "agent-a1",
        capabilities: ["tcp"],
        version: "t",
        host: "edge",
        address: agent.address,
      },
      { bind: true },
    );
    const caller = new GrpcAgentCaller({ pollerId: "poller-a1", insecure: true, logger });
    const poller = await startPoller(a, {
      tenant: "a",
      partition: "p1",
      id: "poller-a1",
      capabilities: ["tcp"],
      version: "t",
      host: "edge",
      agentCaller: caller,
      logger,
      bind: true,
    });
    const got: WorkResult[] = [];
    const consumer = await consumeResults(core, "auth_fabric", async (r) => void got.push(r), {
      filterSubject: "sonde.a.results.>",
      deliverNew: true,
    });
    try {
      const dispatcher = new Dispatcher(core, { logger });
      const work = {
        id: "auth-w1",
        tenant: "a",
        partition: "p1",
        capability: "tcp",
        service_name: "loopback",
        service_type: "port",
        details: target.address,
        port: 0,
        timeout_ms: 2_000,
        attempt: 1,
      };
      let outcome = await dispatcher.dispatch(work);
      // The poller's directory may not have seen the agent yet: a refusal is retried by hand here.
      for (let i = 0; i < 50 && outcome.status !== "accepted"; i++) {
        await sleep(100);
        outcome = await dispatcher.dispatch({ ...work, id: `auth-w1-${i}` });
      }
      expect(outcome).toMatchObject({ status: "accepted", pollerId: "poller-a1" });
      const result = await until(() => got[0], "the result in SONDE_RESULTS", 10_000);
      expect(result).toMatchObject({
        tenant: "a",
        poller_id: "poller-a1",
        agent_id: "agent-a1",
        available: true,
      });
      dispatcher.stop();
    } finally {
      await consumer.stop();
      await poller.stop();
      caller.close();
      await registration.stop();
      await agent.stop();
      await target.close();
    }
  });
});
