/**
 * The polling fabric as separate processes on PostgreSQL and NATS: a core, three pollers and two
 * agents across two tenants and two partitions, with mutual TLS from per-tenant CAs. Checkers run
 * only through their own tenant's poller and agent; a poller killed while it runs slow checks loses
 * nothing (its runs are dispatched again to the partition's other poller); and a second core takes
 * over scheduling when the first stops. Names (tenants, the deployment's cluster name) carry a run
 * id: the NATS server is shared with other suites.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createBus } from "../../src/platform/bus/index.js";
import type { Bus, Consumer } from "../../src/platform/bus/types.js";
import { issueCa, issueLeaf, loadCa, writeOutputFiles } from "../../src/platform/fabric/certs/index.js";
import type { WorkResult } from "../../src/platform/fabric/contract.js";
import { consumeResults } from "../../src/platform/fabric/results.js";
import { createTestPostgresDatabase, silentLogger } from "../support/databases.js";
import { serviceGate, TEST_NATS_URL } from "../support/services.js";
import { listeningUrl, type SondeProcess, spawnSonde } from "../support/sonde-process.js";
import { waitFor } from "../support/wait.js";

vi.setConfig({ testTimeout: 300_000, hookTimeout: 60_000 });

const realServices = serviceGate("postgres").run && serviceGate("nats").run;

type Json = Record<string, unknown>;

/** Writes `<dir>/<name>/{ca.crt,tls.crt,tls.key}` for each component of one tenant. */
async function tenantCertificates(
  root: string,
  tenant: string,
  components: readonly { component: "poller" | "agent"; id: string }[],
): Promise<Record<string, string>> {
  const issued = await issueCa({ tenant, days: 2 });
  const ca = await loadCa(issued, tenant);
  const dirs: Record<string, string> = {};
  for (const c of components) {
    const leaf = await issueLeaf({
      ca,
      identity: { tenant, component: c.component, id: c.id },
      hosts: c.component === "agent" ? ["127.0.0.1"] : [],
      days: 1,
    });
    const dir = join(root, c.id);
    writeOutputFiles(
      dir,
      [
        { name: "ca.crt", content: issued.certPem, secret: false },
        { name: "tls.crt", content: leaf.certPem, secret: false },
        { name: "tls.key", content: leaf.keyPem, secret: true },
      ],
      { force: false },
    );
    dirs[c.id] = dir;
  }
  return dirs;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a !== null ? a.port : 0));
    });
  });
}

function tcpTarget(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((s) => s.end());
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      resolve({ server, port: typeof a === "object" && a !== null ? a.port : 0 });
    });
  });
}

/** Answers 200 after `delayMs`: a check that is still running when its poller is killed. */
function slowHttp(delayMs: number): Promise<{ server: HttpServer; url: string; hits: () => number }> {
  let hits = 0;
  return new Promise((resolve) => {
    const server = createHttpServer((_req, res) => {
      hits++;
      setTimeout(() => res.end("ok"), delayMs);
    });
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      resolve({ server, url: `http://127.0.0.1:${port}/slow`, hits: () => hits });
    });
  });
}

describe.runIf(realServices)("the polling fabric as processes on PostgreSQL and NATS", () => {
  const running: SondeProcess[] = [];
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    if (process.env.FABRIC_DEBUG === "1") {
      const { writeFileSync } = await import("node:fs");
      running.forEach((p, i) => writeFileSync(`/tmp/fabric-${i}.log`, p.stdout() + p.stderr()));
    }
    for (const p of running) p.kill();
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
  });

  it("dispatches within tenant and partition, survives a killed poller and a stopped core", async () => {
    const run = randomBytes(3).toString("hex");
    const A = `fab-a-${run}`;
    const B = `fab-b-${run}`;
    const pgdb = await createTestPostgresDatabase();
    cleanup.push(pgdb.drop);
    const password = `e2e-${randomBytes(12).toString("hex")}`;
    const coreEnv = {
      DATABASE_URL: pgdb.url,
      NATS_URL: TEST_NATS_URL,
      SONDE_SECRET: "s".repeat(40),
      SONDE_ADMIN_PASSWORD: password,
      SONDE_CLUSTER_NAME: `fabric-${run}`,
      // Short drains: the test stops processes on purpose.
      SONDE_SHUTDOWN_TIMEOUT_MS: "8000",
    };
    // Fixed ports: sign-in checks the request's origin against the public URL.
    const [port1, port2] = [await freePort(), await freePort()];
    const core1 = spawnSonde(["core"], {
      ...coreEnv,
      SONDE_NODE_NAME: "core-1",
      PORT: String(port1),
      SONDE_PUBLIC_URL: `http://127.0.0.1:${port1}`,
    });
    running.push(core1);
    const base1 = await listeningUrl(core1, 60_000);
    // The super user's session acts in any tenant named by X-Sonde-Tenant (API tokens stay in theirs).
    const signIn = await fetch(`${base1}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { origin: base1, "content-type": "application/json" },
      body: JSON.stringify({ email: "admin@sonde.localhost", password }),
    });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const api = async (base: string, method: string, path: string, tenant?: string, body?: Json) => {
      const res = await fetch(`${base}/api/v2${path}`, {
        method,
        headers: {
          cookie,
          origin: base,
          ...(tenant === undefined ? {} : { "x-sonde-tenant": tenant }),
          ...(body === undefined ? {} : { "content-type": "application/vnd.api+json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return JSON.parse(text) as { data: Json | Json[] };
    };
    for (const slug of [A, B]) {
      await api(base1, "POST", "/tenants", undefined, {
        data: { type: "tenants", attributes: { slug, name: slug } },
      });
    }

    // Per-tenant CAs; each component gets its own certificate.
    const certRoot = mkdtempSync(join(tmpdir(), "sonde-fabric-"));
    const certs = {
      ...(await tenantCertificates(join(certRoot, A), A, [
        { component: "agent", id: "agent-a1" },
        { component: "poller", id: "poller-a1" },
        { component: "poller", id: "poller-a2" },
      ])),
      ...(await tenantCertificates(join(certRoot, B), B, [
        { component: "agent", id: "agent-b1" },
        { component: "poller", id: "poller-b1" },
      ])),
    };
    const edge = (args: string[]) => {
      const p = spawnSonde(args, { NATS_URL: TEST_NATS_URL, SONDE_SHUTDOWN_TIMEOUT_MS: "8000" });
      running.push(p);
      return p;
    };
    const agent = (tenant: string, partition: string, id: string) =>
      edge([
        "agent",
        "--listen",
        "127.0.0.1:0",
        "--tenant",
        tenant,
        "--partition",
        partition,
        "--agent-id",
        id,
        "--tls-dir",
        certs[id] ?? "",
      ]);
    const poller = (tenant: string, partition: string, id: string) =>
      edge([
        "poller",
        "--tenant",
        tenant,
        "--partition",
        partition,
        "--id",
        id,
        "--tls-dir",
        certs[id] ?? "",
      ]);
    agent(A, "p1", "agent-a1");
    agent(B, "p2", "agent-b1");
    const pollerA1 = poller(A, "p1", "poller-a1");
    poller(A, "p1", "poller-a2");
    poller(B, "p2", "poller-b1");

    // The test reads every result of both tenants from the stream, with its own durable.
    const bus: Bus = await createBus({ natsUrl: TEST_NATS_URL, name: "fabric-e2e", logger: silentLogger });
    cleanup.push(() => bus.close());
    const results: WorkResult[] = [];
    const consumers: Consumer[] = [];
    for (const slug of [A, B]) {
      consumers.push(
        await consumeResults(
          bus,
          `fabric_e2e_${slug.replace(/-/g, "_")}`,
          async (r) => void results.push(r),
          {
            filterSubject: `sonde.${slug}.results.>`,
          },
        ),
      );
    }
    cleanup.push(async () => {
      for (const c of consumers) await c.stop();
    });

    const agentId = async (tenant: string, componentId: string) => {
      let id: string | undefined;
      await waitFor(
        async () => {
          const { data } = await api(base1, "GET", `/agents?filter[component_id]=${componentId}`, tenant);
          id = (data as Json[])[0]?.id as string | undefined;
          return id !== undefined;
        },
        60_000,
        `${componentId} registered`,
        250,
      );
      return String(id);
    };
    const tcp = await tcpTarget();
    cleanup.push(async () => void tcp.server.close());
    const checker = async (tenant: string, attributes: Json, agentRow: string) =>
      String(
        (
          (
            await api(base1, "POST", "/checkers", tenant, {
              data: {
                type: "checkers",
                attributes,
                relationships: { agent: { data: { type: "agents", id: agentRow } } },
              },
            })
          ).data as Json
        ).id,
      );
    const agentA = await agentId(A, "agent-a1");
    const agentB = await agentId(B, "agent-b1");
    const tcpA = await checker(
      A,
      { name: "tcp", check_type: "tcp", details: `127.0.0.1:${tcp.port}`, interval_seconds: 1 },
      agentA,
    );
    const tcpB = await checker(
      B,
      { name: "tcp", check_type: "tcp", details: `127.0.0.1:${tcp.port}`, interval_seconds: 1 },
      agentB,
    );

    const resultsFor = (checkerId: string) =>
      results.filter((r) => r.work_id.startsWith(`checker:${checkerId}:`));
    await waitFor(
      () => resultsFor(tcpA).length >= 3 && resultsFor(tcpB).length >= 3,
      90_000,
      "results of both tenants",
      250,
    );
    // Each tenant's runs went through its own pollers and agent only, and succeeded.
    for (const r of resultsFor(tcpA)) {
      expect(r).toMatchObject({
        tenant: A,
        partition: "p1",
        agent_id: "agent-a1",
        available: true,
        error: null,
      });
      expect(["poller-a1", "poller-a2"]).toContain(r.poller_id);
    }
    for (const r of resultsFor(tcpB)) {
      expect(r).toMatchObject({
        tenant: B,
        partition: "p2",
        poller_id: "poller-b1",
        agent_id: "agent-b1",
        available: true,
      });
    }
    // Both of A's pollers take work (one queue group per partition).
    await waitFor(
      () => new Set(resultsFor(tcpA).map((r) => r.poller_id)).size === 2,
      60_000,
      "both of A's pollers used",
      250,
    );
    const shown = (await api(base1, "GET", `/checkers/${tcpA}`, A)).data as Json;
    expect((shown.attributes as Json).last_success_at).not.toBeNull();
    // B's checker does not exist for A.
    await expect(api(base1, "GET", `/checkers/${tcpB}`, A)).rejects.toThrow(/404/);

    // A slow check, run by poller-a1 alone while poller-a2 is in maintenance: when a1 is killed it
    // certainly holds runs in flight.
    const slow = await slowHttp(5_000);
    cleanup.push(async () => void slow.server.close());
    const { data: a2rows } = await api(base1, "GET", "/pollers?filter[component_id]=poller-a2", A);
    const a2 = String((a2rows as Json[])[0]?.id);
    await api(base1, "POST", `/pollers/${a2}/maintenance`, A);
    const slowA = await checker(
      A,
      {
        name: "slow",
        check_type: "http",
        details: JSON.stringify({ url: slow.url }),
        interval_seconds: 1,
        timeout_ms: 8_000,
      },
      agentA,
    );
    await waitFor(() => slow.hits() >= 3, 60_000, "poller-a1 running slow checks", 100);
    await api(base1, "POST", `/pollers/${a2}/resume`, A);
    const killedAt = Date.now();
    pollerA1.child.kill("SIGKILL");
    await core1.waitForLog((l) => l.msg === "no result for an accepted run: dispatching it again", 60_000);
    // Every due time poller-a1 had accepted gets its result from poller-a2, and none is lost.
    await waitFor(
      () => resultsFor(slowA).filter((r) => Date.parse(r.completed_at) > killedAt + 10_000).length >= 2,
      90_000,
      "slow checks after the kill",
      250,
    );
    const afterKill = resultsFor(slowA).filter((r) => Date.parse(r.completed_at) > killedAt + 2_000);
    expect(afterKill.filter((r) => r.poller_id !== "poller-a2" || !r.available)).toEqual([]);
    expect(core1.logs.some((l) => l.msg === "check run lost")).toBe(false);
    const slowShown = ((await api(base1, "GET", `/checkers/${slowA}`, A)).data as Json).attributes as Json;
    expect(slowShown.consecutive_failures).toBe(0);

    // A second core stands by; the first stops and the second schedules within the lease bound.
    const core2 = spawnSonde(["core"], {
      ...coreEnv,
      SONDE_NODE_NAME: "core-2",
      SONDE_MIGRATE_ON_START: "false",
      PORT: String(port2),
      SONDE_PUBLIC_URL: `http://127.0.0.1:${port2}`,
    });
    running.push(core2);
    const base2 = await listeningUrl(core2, 60_000);
    core1.child.kill("SIGTERM");
    expect(await core1.exited(30_000)).toBe(0);
    const stoppedAt = Date.now();
    await core2.waitForLog((l) => l.msg === "this core instance schedules checks", 30_000);
    const countAt = resultsFor(tcpA).length;
    await waitFor(() => resultsFor(tcpA).length >= countAt + 3, 60_000, "runs scheduled by core-2", 250);
    expect(Date.now() - stoppedAt).toBeLessThan(60_000);
    const last = ((await api(base2, "GET", `/checkers/${tcpA}`, A)).data as Json).attributes as Json;
    expect(Date.parse(String(last.last_result_due_at))).toBeGreaterThan(stoppedAt - 2_000);
  });
});
