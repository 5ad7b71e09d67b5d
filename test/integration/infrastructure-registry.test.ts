/**
 * The registry watcher end to end (docs/infrastructure.md), on both databases and both bus adapters:
 * heartbeats put in a real KV bucket register pollers and agents; with a short heartbeat period,
 * lapsed heartbeats degrade them and then take them offline / unavailable, new ones bring them back
 * (pollers through recovering), a deleted key takes them down at once, and every transition is
 * published as `sonde.<tenant>.infra.<entity>.<event>` through the outbox. Operator maintenance
 * survives heartbeats; two watchers (two cores) apply each transition once; and entries stay in
 * their key's tenant: another tenant's key, an unknown or suspended tenant, or a body naming another
 * tenant than its key never touch a tenant's records or subjects.
 */
import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startRegistryWatcher,
  type RegistryWatcher,
} from "../../src/domains/infrastructure/registry/watcher.js";
import { systemActor, type UserActor } from "../../src/kernel/actor.js";
import type { Rec } from "../../src/kernel/kernel.js";
import { tenants } from "../../src/kernel/kernel.schema.js";
import { OutboxRelay } from "../../src/kernel/outbox.js";
import { inScope, queryRows } from "../../src/kernel/tenancy/transaction.js";
import { createBus } from "../../src/platform/bus/index.js";
import type { Bus, KvBucket, Subscription } from "../../src/platform/bus/types.js";
import {
  CONTROL_BUCKET,
  controlSchema,
  REGISTRY_TTL_HEARTBEATS,
  type RegistryEntry,
  registryKey,
} from "../../src/platform/fabric/contract.js";
import { type DatabaseTarget, embeddedTarget, postgresTarget, silentLogger } from "../support/databases.js";
import { type IdentityHarness, openIdentityHarness } from "../support/identity-harness.js";
import { serviceGate, TEST_NATS_URL } from "../support/services.js";
import { waitFor } from "../support/wait.js";

/** Short enough for a test, long enough for a loaded machine to sweep between 2 and 3 periods. */
const PERIOD_MS = 800;
const SOON = 10 * PERIOD_MS;

interface BusTarget {
  readonly name: "memory" | "nats";
  open(): Promise<Bus>;
}
const memoryBus: BusTarget = {
  name: "memory",
  open: () => createBus({ name: "infra-registry", logger: silentLogger }),
};
const natsBus: BusTarget = {
  name: "nats",
  open: () => createBus({ natsUrl: TEST_NATS_URL, name: "infra-registry", logger: silentLogger }),
};

function suite(target: DatabaseTarget, busTarget: BusTarget) {
  describe(`registry watcher: ${target.name} database, ${busTarget.name} bus`, () => {
    const run = randomBytes(3).toString("hex");
    // Slugs and the bucket carry the run id: NATS is shared with other suites and runs.
    const slug = {
      alpha: `alpha-${run}`,
      bravo: `bravo-${run}`,
      ghost: `ghost-${run}`,
      frozen: `frozen-${run}`,
    };
    const bucketName = `sonde-registry-test-${run}`;
    let h: IdentityHarness;
    let bus: Bus;
    let registry: KvBucket;
    let relay: OutboxRelay;
    let watcher: RegistryWatcher;
    let alpha: string;
    let bravo: string;
    let frozen: string;
    const events: string[] = [];
    /** Subject → the component ids its events carried. */
    const carried: { readonly subject: string; readonly componentId: unknown }[] = [];
    const subs: Subscription[] = [];
    const system = systemActor("registry-tests");

    const entry = (
      tenant: string,
      kind: "poller" | "agent",
      id: string,
      extra: Partial<RegistryEntry> = {},
    ) => {
      const now = new Date().toISOString();
      return {
        kind,
        tenant,
        partition: "site-a",
        id,
        capabilities: ["icmp", "tcp"],
        version: "1.2.3",
        host: `${id}.example`,
        mode: "active" as const,
        startedAt: now,
        heartbeatAt: now,
        ...(kind === "agent" ? { address: `${id}.example:50051` } : {}),
        ...extra,
      } satisfies RegistryEntry;
    };
    const beat = async (e: RegistryEntry) => {
      await registry.put(registryKey(e), JSON.stringify({ ...e, heartbeatAt: new Date().toISOString() }));
    };
    const find = async (tenantId: string, kind: string, componentId: string): Promise<Rec | undefined> => {
      const { records } = await h.kernel.list(
        h.kernel.resource(kind),
        { actor: system, tenantId },
        { filter: { field: "component_id", op: "eq", value: componentId } },
      );
      return records[0];
    };
    const statusOf = async (tenantId: string, kind: string, id: string) =>
      (await find(tenantId, kind, id))?.status;
    const until = (tenantId: string, kind: string, id: string, status: string) =>
      waitFor(
        async () => (await statusOf(tenantId, kind, id)) === status,
        SOON,
        `${kind} ${id} ${status}`,
        25,
      );
    const historyOf = async (tenantId: string, kind: string, componentId: string) => {
      const rec = await find(tenantId, kind, componentId);
      const rows = await h.kernel.history(
        h.kernel.resource(kind),
        { actor: system, tenantId },
        String(rec?.id),
      );
      return rows.map((r) => `${String(r.from)}>${String(r.to)}`);
    };
    const eventsFor = (tenant: string, kind: string) =>
      events.filter((s) => s.startsWith(`sonde.${tenant}.infra.${kind}.`)).map((s) => s.split(".").at(-1));

    beforeAll(async () => {
      bus = await busTarget.open();
      h = await openIdentityHarness(target, { bus });
      alpha = await h.createTenant(slug.alpha);
      bravo = await h.createTenant(slug.bravo);
      frozen = await h.createTenant(slug.frozen);
      await h.t.db.orm.update(tenants).set({ status: "suspended" }).where(eq(tenants.id, frozen));
      relay = new OutboxRelay({ orm: h.t.db.orm, bus, logger: silentLogger, intervalMs: 50 });
      relay.start();
      for (const tenant of [slug.alpha, slug.bravo, slug.frozen, slug.ghost]) {
        subs.push(
          await bus.subscribe(`sonde.${tenant}.infra.>`, (m) => {
            events.push(m.subject);
            const record = m.json<{ record?: { component_id?: unknown } }>().record;
            carried.push({ subject: m.subject, componentId: record?.component_id });
          }),
        );
      }
      registry = await bus.kv(bucketName, { ttlMs: PERIOD_MS * REGISTRY_TTL_HEARTBEATS });
      watcher = await startRegistryWatcher({
        kernel: h.kernel,
        orm: h.t.db.orm,
        bus,
        logger: silentLogger,
        heartbeatMs: PERIOD_MS,
        bucket: bucketName,
        tenantTtlMs: 0,
      });
    });
    afterAll(async () => {
      await watcher?.stop();
      await relay?.stop();
      for (const s of subs) await s.unsubscribe();
      await registry?.destroy();
      await bus?.close();
      await h?.close();
    });

    it("registers a poller, degrades and offlines it when heartbeats lapse, then recovers and heals it", async () => {
      const e = entry(slug.alpha, "poller", "p-life");
      await beat(e);
      await until(alpha, "poller", "p-life", "healthy");
      expect(await find(alpha, "poller", "p-life")).toMatchObject({
        partition: "site-a",
        capabilities: ["icmp", "tcp"],
        version: "1.2.3",
        host: "p-life.example",
        intent: "active",
        first_seen: expect.any(Date) as unknown,
        last_seen_at: expect.any(Date) as unknown,
        last_heartbeat_at: expect.any(Date) as unknown,
      });
      await until(alpha, "poller", "p-life", "degraded");
      await until(alpha, "poller", "p-life", "offline");
      await beat(e);
      await until(alpha, "poller", "p-life", "recovering");
      await beat(e);
      await until(alpha, "poller", "p-life", "healthy");
      expect(await historyOf(alpha, "poller", "p-life")).toEqual([
        "inactive>healthy",
        "healthy>degraded",
        "degraded>offline",
        "offline>recovering",
        "recovering>healthy",
      ]);
      await waitFor(() => eventsFor(slug.alpha, "poller").length >= 6, SOON, "poller events");
      expect(eventsFor(slug.alpha, "poller")).toEqual([
        "registered",
        "healthy",
        "degraded",
        "offline",
        "recovering",
        "healthy",
      ]);
    });

    it("connects an agent, degrades it, makes it unavailable when silent or when its key is deleted", async () => {
      const e = entry(slug.alpha, "agent", "a-life");
      await beat(e);
      await until(alpha, "agent", "a-life", "connected");
      expect((await find(alpha, "agent", "a-life"))?.address).toBe("a-life.example:50051");
      await until(alpha, "agent", "a-life", "degraded");
      await until(alpha, "agent", "a-life", "unavailable");
      await beat(e);
      await until(alpha, "agent", "a-life", "connected");
      await registry.delete(registryKey(e));
      await until(alpha, "agent", "a-life", "unavailable");
      await waitFor(() => eventsFor(slug.alpha, "agent").length >= 6, SOON, "agent events");
      expect(eventsFor(slug.alpha, "agent")).toEqual([
        "registered",
        "connected",
        "degraded",
        "unavailable",
        "connected",
        "unavailable",
      ]);
    });

    it("reflects a poller's own draining, and its return", async () => {
      const e = entry(slug.alpha, "poller", "p-drain");
      await beat(e);
      await until(alpha, "poller", "p-drain", "healthy");
      await beat({ ...e, mode: "draining" });
      await until(alpha, "poller", "p-drain", "draining");
      expect((await find(alpha, "poller", "p-drain"))?.intent).toBe("active");
      await beat(e);
      await until(alpha, "poller", "p-drain", "recovering");
      await beat(e);
      await until(alpha, "poller", "p-drain", "healthy");
      await registry.delete(registryKey(e));
      await until(alpha, "poller", "p-drain", "offline");
    });

    it("keeps an operator's drain and maintenance through heartbeats and silence, and tells the poller", async () => {
      const e = entry(slug.alpha, "poller", "p-maint");
      await beat(e);
      await until(alpha, "poller", "p-maint", "healthy");
      const rec = await find(alpha, "poller", "p-maint");
      const operator: UserActor = {
        kind: "user",
        id: "op",
        tenantId: alpha,
        role: "operator",
        superUser: false,
      };
      const act = (action: string) =>
        h.kernel.runAction(h.kernel.resource("poller"), action, { actor: operator }, { id: String(rec?.id) });
      const control = await bus.kv(CONTROL_BUCKET);
      const mode = async () => controlSchema.parse((await control.get(registryKey(e)))?.json());

      await act("drain");
      expect(await mode()).toMatchObject({ mode: "draining", actor: "op" });
      // A heartbeat still saying "active" (the poller has not read its key yet) does not undo the drain.
      await beat(e);
      await new Promise((r) => setTimeout(r, PERIOD_MS / 2));
      expect(await statusOf(alpha, "poller", "p-maint")).toBe("draining");

      await act("maintenance");
      expect(await mode()).toMatchObject({ mode: "maintenance", actor: "op" });
      for (let i = 0; i < 3; i += 1) {
        await beat(e);
        await new Promise((r) => setTimeout(r, PERIOD_MS / 2));
      }
      expect(await statusOf(alpha, "poller", "p-maint")).toBe("maintenance");
      // Silent for more than 3 periods: still the operator's.
      await new Promise((r) => setTimeout(r, PERIOD_MS * 4));
      await watcher.sweep();
      expect(await statusOf(alpha, "poller", "p-maint")).toBe("maintenance");
      await control.delete(registryKey(e));
    });

    it("applies each transition once when two cores watch the same registry", async () => {
      const second = await startRegistryWatcher({
        kernel: h.kernel,
        orm: h.t.db.orm,
        bus,
        logger: silentLogger,
        heartbeatMs: PERIOD_MS,
        bucket: bucketName,
        tenantTtlMs: 0,
      });
      try {
        const e = entry(slug.alpha, "poller", "p-twice");
        await beat(e);
        await until(alpha, "poller", "p-twice", "healthy");
        await until(alpha, "poller", "p-twice", "offline");
        await beat(e);
        await until(alpha, "poller", "p-twice", "recovering");
        await beat(e);
        await until(alpha, "poller", "p-twice", "healthy");
        expect(await historyOf(alpha, "poller", "p-twice")).toEqual([
          "inactive>healthy",
          "healthy>degraded",
          "degraded>offline",
          "offline>recovering",
          "recovering>healthy",
        ]);
        const rows = await inScope(h.t.db.orm, { tenantId: alpha, bypass: false }, (tx) =>
          queryRows<{ n: number }>(
            tx,
            sql`select count(*)::int as n from pollers where component_id = 'p-twice'`,
          ),
        );
        expect(rows[0]?.n).toBe(1);
      } finally {
        await second.stop();
      }
    });

    it("keeps entries in their key's tenant: other tenants, unknown and suspended ones, mismatched bodies", async () => {
      // The same component id under bravo's key: bravo's record only.
      await beat(entry(slug.bravo, "poller", "p-life"));
      await waitFor(
        async () => (await statusOf(bravo, "poller", "p-life")) === "healthy",
        SOON,
        "bravo's poller",
      );
      // alpha's p-life is its own record, untouched by bravo's heartbeat.
      const alphaRec = await find(alpha, "poller", "p-life");
      const bravoRec = await find(bravo, "poller", "p-life");
      expect(alphaRec?.id).not.toBe(bravoRec?.id);
      expect(bravoRec?.registry_key).toBe(`${slug.bravo}.poller.site-a.p-life`);

      // A body naming alpha under bravo's key; an unknown tenant; a suspended one.
      await registry.put(
        `${slug.bravo}.poller.site-a.p-forged`,
        JSON.stringify(entry(slug.alpha, "poller", "p-forged")),
      );
      await beat(entry(slug.ghost, "poller", "p-ghost"));
      await beat(entry(slug.frozen, "poller", "p-frozen"));
      // A marker put after them: once it is applied, the ones before it were seen too.
      await beat(entry(slug.bravo, "agent", "a-marker"));
      await waitFor(async () => (await statusOf(bravo, "agent", "a-marker")) === "connected", SOON, "marker");
      await watcher.sweep();
      for (const id of ["p-forged", "p-ghost", "p-frozen"]) {
        for (const t of [alpha, bravo, frozen]) expect(await find(t, "poller", id), `${id}`).toBeUndefined();
      }
      await inScope(h.t.db.orm, { tenantId: null, bypass: true }, async (tx) => {
        const rows = await queryRows<{ n: number }>(
          tx,
          sql`select count(*)::int as n from pollers where component_id in ('p-forged', 'p-ghost', 'p-frozen')`,
        );
        expect(rows[0]?.n).toBe(0);
      });
      // Subjects: bravo's events under bravo only; none for the ghost or the suspended tenant.
      await waitFor(() => eventsFor(slug.bravo, "agent").includes("connected"), SOON, "bravo events");
      expect(
        events.filter((s) => s.startsWith(`sonde.${slug.ghost}.`) || s.startsWith(`sonde.${slug.frozen}.`)),
      ).toEqual([]);
      // bravo's marker was published under bravo's subjects only.
      const marker = carried.filter((c) => c.componentId === "a-marker").map((c) => c.subject);
      expect(marker.length).toBeGreaterThan(0);
      for (const subject of marker) expect(subject.startsWith(`sonde.${slug.bravo}.infra.agent.`)).toBe(true);
      const alphaAgents = await h.kernel.list(h.kernel.resource("agent"), { actor: system, tenantId: alpha });
      expect(alphaAgents.records.map((r) => r.component_id)).not.toContain("a-marker");
    });
  });
}

const dbs = [embeddedTarget, ...(serviceGate("postgres").run ? [postgresTarget] : [])];
const buses = [memoryBus, ...(serviceGate("nats").run ? [natsBus] : [])];
for (const db of dbs) for (const b of buses) suite(db, b);
