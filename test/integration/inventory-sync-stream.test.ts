/**
 * The SONDE_SYNC bus stream, on both databases and both bus adapters: messages on a tenant's subject
 * land in that tenant only, whatever their payload says; unknown tenants and malformed payloads are
 * dropped without effect and counted; transient failures are retried a bounded number of times.
 * Against NATS the stream is shared with anything else using the server, so each run consumes with
 * a durable of its own and names tenants that no other run has.
 */
import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { sql } from "drizzle-orm";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeviceIngest } from "../../src/domains/inventory/dire/ingest.js";
import { publishDeviceUpdates } from "../../src/domains/inventory/sync-publish.js";
import type { UpdateIngest } from "../../src/domains/inventory/sync-batches.js";
import {
  startSyncStream,
  SYNC_STREAM,
  type SyncMessageOutcome,
} from "../../src/domains/inventory/sync-stream.js";
import { systemActor } from "../../src/kernel/actor.js";
import { Kernel } from "../../src/kernel/kernel.js";
import { inScope, queryRows } from "../../src/kernel/tenancy/transaction.js";
import { SondeError } from "../../src/lib/errors.js";
import { createBus } from "../../src/platform/bus/index.js";
import { parseNatsUrl } from "../../src/platform/bus/nats-connect.js";
import type { Bus, Consumer } from "../../src/platform/bus/types.js";
import { openKeyring } from "../../src/platform/crypto/index.js";
import { migrateUp } from "../../src/platform/db/migrate.js";
import { coreResources } from "../../src/roles/resources.js";
import {
  type DatabaseTarget,
  embeddedTarget,
  postgresTarget,
  silentLogger,
  type TestDatabase,
} from "../support/databases.js";
import { serviceGate, TEST_NATS_URL } from "../support/services.js";
import { waitFor } from "../support/wait.js";

interface BusTarget {
  readonly name: "memory" | "nats";
  open(): Promise<Bus>;
  /** Removes what the run left on a shared server. */
  cleanup?(durable: string): Promise<void>;
}

const memoryBus: BusTarget = {
  name: "memory",
  open: () => createBus({ name: "sync-test", logger: silentLogger }),
};

const natsBus: BusTarget = {
  name: "nats",
  open: () => createBus({ natsUrl: TEST_NATS_URL, name: "sync-test", logger: silentLogger }),
  async cleanup(durable) {
    const target = parseNatsUrl(TEST_NATS_URL);
    const nc = await connect({
      servers: [...target.servers],
      ...(target.user === undefined ? {} : { user: target.user, pass: target.pass }),
      ...(target.token === undefined ? {} : { token: target.token }),
    });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.consumers.delete(SYNC_STREAM.name, durable);
    } finally {
      await nc.close();
    }
  },
};

/** Bound for a message to be settled, generous for a loaded machine; waits end as soon as it is. */
const SETTLED_MS = 20_000;

type Device = Record<string, unknown> & { ip: string | null; tenant_id: string };

/** The real DIRE ingest, made to fail as if the database were down for its next `failNext` calls. */
class FlakyIngest implements UpdateIngest {
  failNext = 0;
  constructor(private readonly real: UpdateIngest) {}
  async ingest(...args: Parameters<UpdateIngest["ingest"]>) {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new SondeError("SONDE_DB_UNAVAILABLE", "database unavailable (test)");
    }
    return this.real.ingest(...args);
  }
}

function update(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ip: `10.20.${(i >> 8) & 255}.${i & 255}`,
    source: "edge",
    timestamp: "2025-02-01T08:00:00Z",
    ...extra,
  };
}

function suite(db: DatabaseTarget, busTarget: BusTarget) {
  describe(`device sync bus stream: ${db.name} database, ${busTarget.name} bus`, () => {
    const run = randomBytes(4).toString("hex");
    const slugA = `sync-a-${run}`;
    const slugB = `sync-b-${run}`;
    const unknownSlug = `sync-nobody-${run}`;
    const suspendedSlug = `sync-off-${run}`;
    const durable = `sync_test_${run}`;
    const registry = new Registry();
    const outcomes: Array<{ seq: number; outcome: SyncMessageOutcome }> = [];
    let t: TestDatabase;
    let bus: Bus;
    let consumer: Consumer | undefined;
    let flaky: FlakyIngest;
    let a: string;
    let b: string;
    let off: string;

    async function devices(tenantId: string | null): Promise<Device[]> {
      return inScope(t.db.orm, { tenantId, bypass: tenantId === null }, (tx) =>
        queryRows<Device>(tx, sql`select * from devices order by tenant_id, uid`),
      );
    }

    /** Publishes and waits until the consumer settled the message for good; returns its outcomes. */
    async function publish(slug: string, payload: Parameters<typeof publishDeviceUpdates>[2]) {
      const { seq } = await publishDeviceUpdates(bus, slug, payload);
      const mine = () => outcomes.filter((o) => o.seq === seq).map((o) => o.outcome);
      await waitFor(() => mine().some((o) => o !== "retried"), SETTLED_MS, `message ${seq} settled`);
      return mine();
    }

    async function counted(outcome: SyncMessageOutcome): Promise<number> {
      const metric = await registry.getSingleMetric("sonde_sync_bus_messages_total")?.get();
      return metric?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
    }

    beforeAll(async () => {
      t = await db.open();
      await migrateUp(t.db);
      const keyring = await openKeyring(t.db.orm, "sync-stream-test-secret-".padEnd(48, "x"));
      const kernel = new Kernel({ orm: t.db.orm, resources: coreResources, logger: silentLogger, keyring });
      const system = { actor: systemActor("sync-stream-test") };
      a = String((await kernel.create(kernel.resource("tenant"), system, { slug: slugA, name: "A" })).id);
      b = String((await kernel.create(kernel.resource("tenant"), system, { slug: slugB, name: "B" })).id);
      off = String(
        (await kernel.create(kernel.resource("tenant"), system, { slug: suspendedSlug, name: "Off" })).id,
      );
      await kernel.runAction(kernel.resource("tenant"), "suspend", system, { id: off });
      flaky = new FlakyIngest(new DeviceIngest({ kernel, logger: silentLogger }));
      bus = await busTarget.open();
      consumer = await startSyncStream({
        bus,
        orm: t.db.orm,
        ingest: flaky,
        logger: silentLogger,
        registry,
        durable,
        maxDeliver: 3,
        retryDelayMs: 20,
        onOutcome: (outcome, msg) => outcomes.push({ seq: msg.seq, outcome }),
      });
    }, 60_000);

    afterAll(async () => {
      await consumer?.stop();
      await bus?.close();
      await busTarget.cleanup?.(durable);
      await t?.dispose();
    });

    it("ingests a JSON array, one update object and NDJSON on A's subject, into A only", async () => {
      expect(await publish(slugA, [update(1, { mac: "02:aa:00:00:00:01" }), update(2)])).toEqual([
        "ingested",
      ]);
      expect(await publish(slugA, update(3))).toEqual(["ingested"]);
      const lines = [JSON.stringify(update(4)), "", "{broken", JSON.stringify(update(5))].join("\n");
      expect(await publish(slugA, lines)).toEqual(["ingested"]);
      const mine = await devices(a);
      expect(mine.map((d) => d.ip).sort()).toEqual([
        "10.20.0.1",
        "10.20.0.2",
        "10.20.0.3",
        "10.20.0.4",
        "10.20.0.5",
      ]);
      expect(await devices(b)).toEqual([]);
      expect(await counted("ingested")).toBe(3);
    });

    it("changes nothing when a message is delivered again", async () => {
      const before = await devices(a);
      expect(await publish(slugA, [update(1, { mac: "02:aa:00:00:00:01" }), update(2)])).toEqual([
        "ingested",
      ]);
      expect(await devices(a)).toEqual(before);
    });

    it("lands B's message only in B: the same address and MAC make B's own device, A's stay unchanged", async () => {
      const aBefore = await devices(a);
      const outcome = await publish(slugB, [
        update(1, { mac: "02:aa:00:00:00:01", hostname: "b-box" }),
        // The payload cannot name a tenant: such an update is rejected, and only it.
        { ...update(9), tenant_id: a },
      ]);
      expect(outcome).toEqual(["ingested"]);
      expect(await devices(a)).toEqual(aBefore);
      const inB = await devices(b);
      expect(inB.map((d) => [d.ip, d.hostname, d.tenant_id])).toEqual([["10.20.0.1", "b-box", b]]);
    });

    it("drops a message on an unknown tenant's subject without effect, and counts it", async () => {
      const everything = await devices(null);
      const before = await counted("unknown_tenant");
      expect(await publish(unknownSlug, [update(7)])).toEqual(["unknown_tenant"]);
      expect(await counted("unknown_tenant")).toBeGreaterThan(before);
      expect(await devices(null)).toEqual(everything);
    });

    it("drops a suspended tenant's message without effect, and counts it", async () => {
      const before = await counted("suspended_tenant");
      expect(await publish(suspendedSlug, [update(8)])).toEqual(["suspended_tenant"]);
      expect(await counted("suspended_tenant")).toBe(before + 1);
      expect(await devices(off)).toEqual([]);
    });

    it("drops malformed payloads (not JSON, empty, a JSON scalar) and counts them", async () => {
      const everything = await devices(null);
      for (const payload of ["this is not json", "   ", "42"]) {
        expect(await publish(slugA, payload)).toEqual(["malformed"]);
      }
      expect(await counted("malformed")).toBe(3);
      expect(await devices(null)).toEqual(everything);
    });

    it("retries a transient failure with backoff, then ingests", async () => {
      flaky.failNext = 2;
      expect(await publish(slugA, [update(20)])).toEqual(["retried", "retried", "ingested"]);
      expect((await devices(a)).map((d) => d.ip)).toContain("10.20.0.20");
    });

    it("gives a message up after maxDeliver deliveries that all failed", async () => {
      flaky.failNext = 10;
      try {
        expect(await publish(slugA, [update(21)])).toEqual(["retried", "retried", "failed"]);
      } finally {
        flaky.failNext = 0;
      }
      expect((await devices(a)).map((d) => d.ip)).not.toContain("10.20.0.21");
      expect(await counted("failed")).toBe(1);
    });
  });
}

const natsGate = serviceGate("nats");
const postgresGate = serviceGate("postgres");
for (const db of [embeddedTarget, ...(postgresGate.run ? [postgresTarget] : [])]) {
  suite(db, memoryBus);
  if (natsGate.run) suite(db, natsBus);
}
