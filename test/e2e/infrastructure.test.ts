/**
 * Core as a real process on PostgreSQL and NATS: a poller's registry entry put in NATS's
 * `sonde-registry` shows up healthy in `GET /api/v2/cluster`, an operator drains it over the
 * JSON:API, which writes its `sonde-control` key, and core still shuts down cleanly (the registry
 * watcher stops with the runtime). Component and partition names are random: the buckets are
 * NATS-wide and other runs share them.
 */
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { createBus } from "../../src/platform/bus/index.js";
import {
  CONTROL_BUCKET,
  controlSchema,
  HEARTBEAT_MS,
  REGISTRY_BUCKET,
  REGISTRY_TTL_HEARTBEATS,
  type RegistryEntry,
  registryKey,
} from "../../src/platform/fabric/contract.js";
import { createTestPostgresDatabase, silentLogger } from "../support/databases.js";
import { serviceGate, TEST_NATS_URL } from "../support/services.js";
import { listeningUrl, type SondeProcess, spawnSonde } from "../support/sonde-process.js";
import { waitFor } from "../support/wait.js";

vi.setConfig({ testTimeout: 120_000 });

interface Cluster {
  readonly core_instances: { readonly node: string }[];
  readonly partitions: { readonly slug: string; readonly pollers: { id: string; status: string }[] }[];
}

const realServices = serviceGate("postgres").run && serviceGate("nats").run;
describe.runIf(realServices)("core's registry watcher as a process on PostgreSQL and NATS", () => {
  const running: SondeProcess[] = [];
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(() => {
    for (const p of running.splice(0)) p.kill();
  });
  afterAll(async () => {
    // Last in, first out: the keys go before the bus that deletes them, the bus before the database.
    for (const fn of cleanup.reverse()) await fn();
  });

  it("shows a registered poller in the cluster view and drains it through the control bucket", async () => {
    const pgdb = await createTestPostgresDatabase();
    cleanup.push(pgdb.drop);
    const token = `sonde_e2e_${randomBytes(16).toString("hex")}`;
    const node = `infra-e2e-${randomBytes(3).toString("hex")}`;
    const core = spawnSonde(["core"], {
      DATABASE_URL: pgdb.url,
      NATS_URL: TEST_NATS_URL,
      SONDE_SECRET: "s".repeat(40),
      SONDE_ADMIN_TOKEN: token,
      SONDE_NODE_NAME: node,
    });
    running.push(core);
    const base = await listeningUrl(core);
    const auth = { authorization: `Bearer ${token}` };

    const bus = await createBus({ natsUrl: TEST_NATS_URL, name: "infra-e2e", logger: silentLogger });
    cleanup.push(() => bus.close());
    const run = randomBytes(3).toString("hex");
    const now = new Date().toISOString();
    const entry: RegistryEntry = {
      kind: "poller",
      tenant: "default",
      partition: `e2e-${run}`,
      id: `poller-${run}`,
      capabilities: ["tcp"],
      version: "0.0.0",
      host: "e2e.example",
      mode: "active",
      startedAt: now,
      heartbeatAt: now,
    };
    // The contract's TTL: opening the shared bucket with other settings would change it for everyone.
    const registry = await bus.kv(REGISTRY_BUCKET, { ttlMs: HEARTBEAT_MS * REGISTRY_TTL_HEARTBEATS });
    const control = await bus.kv(CONTROL_BUCKET);
    cleanup.push(async () => {
      await registry.delete(registryKey(entry));
      await control.delete(registryKey(entry));
    });
    await registry.put(registryKey(entry), JSON.stringify(entry));

    let cluster: Cluster | undefined;
    await waitFor(
      async () => {
        const res = await fetch(`${base}/api/v2/cluster`, { headers: auth });
        cluster = (await res.json()) as Cluster;
        const ours = cluster.partitions?.find((p) => p.slug === entry.partition);
        return ours?.pollers[0]?.status === "healthy";
      },
      30_000,
      "the poller in the cluster view",
      200,
    );
    expect(cluster?.core_instances.map((c) => c.node)).toContain(node);
    const pollerId = cluster?.partitions.find((p) => p.slug === entry.partition)?.pollers[0]?.id;

    const drained = await fetch(`${base}/api/v2/pollers/${String(pollerId)}/drain`, {
      method: "POST",
      headers: { ...auth, accept: "application/vnd.api+json" },
    });
    expect(drained.status).toBe(200);
    const written = await control.get(registryKey(entry));
    expect(controlSchema.parse(written?.json()).mode).toBe("draining");

    core.child.kill("SIGTERM");
    expect(await core.exited(15_000)).toBe(0);
    expect(core.logs.find((l) => l.msg === "shutdown complete")).toMatchObject({ clean: true });
  });
});
