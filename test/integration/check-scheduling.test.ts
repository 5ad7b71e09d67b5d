/**
 * Check scheduling end to end in one process, on both databases and both bus adapters: checkers in
 * the database, core's scheduler (lease, claim, dispatch), a real poller taking the partition's work
 * over the bus, a real agent serving monitoring.AgentService on loopback gRPC, and result processing
 * moving the checkers. Also: only one of two schedulers leads and the other takes over when the
 * leader dies; work for a partition without a poller is reported undispatched on its tenant's
 * subject, and a tenant's poller never runs another tenant's checks.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:net";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startRegistryWatcher,
  type RegistryWatcher,
} from "../../src/domains/infrastructure/registry/watcher.js";
import { CheckResults } from "../../src/domains/infrastructure/scheduling/results.js";
import { CheckScheduler } from "../../src/domains/infrastructure/scheduling/scheduler.js";
import { GrpcAgentCaller } from "../../src/grpc/agent-caller.js";
import { systemActor } from "../../src/kernel/actor.js";
import type { Rec } from "../../src/kernel/kernel.js";
import { auditEvents } from "../../src/kernel/kernel.schema.js";
import { inScope } from "../../src/kernel/tenancy/transaction.js";
import { createBus } from "../../src/platform/bus/index.js";
import type { Bus, Subscription } from "../../src/platform/bus/types.js";
import type { WorkItem } from "../../src/platform/fabric/contract.js";
import { type Poller, startPoller } from "../../src/platform/fabric/poller.js";
import { type Registration, registerComponent } from "../../src/platform/fabric/registration.js";
import { type RunningAgent, startAgent } from "../../src/roles/agent.js";
import { type DatabaseTarget, embeddedTarget, postgresTarget, silentLogger } from "../support/databases.js";
import { type IdentityHarness, openIdentityHarness } from "../support/identity-harness.js";
import { serviceGate, TEST_NATS_URL } from "../support/services.js";
import { waitFor } from "../support/wait.js";

const HEARTBEAT_MS = 500;
const SOON = 20_000;
const log = process.env.SCHED_DEBUG === "1" ? (await import("pino")).pino({ level: "debug" }) : silentLogger;

interface BusTarget {
  readonly name: "memory" | "nats";
  open(): Promise<Bus>;
}
const memoryBus: BusTarget = {
  name: "memory",
  open: () => createBus({ name: "sched", logger: silentLogger }),
};
const natsBus: BusTarget = {
  name: "nats",
  open: () => createBus({ natsUrl: TEST_NATS_URL, name: "sched", logger: silentLogger }),
};

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer((socket) => socket.end());
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({ server, port: typeof address === "object" && address !== null ? address.port : 0 });
    });
  });
}

function suite(target: DatabaseTarget, busTarget: BusTarget) {
  describe(`check scheduling: ${target.name} database, ${busTarget.name} bus`, () => {
    const run = randomBytes(3).toString("hex");
    const slug = { a: `sched-a-${run}`, b: `sched-b-${run}` };
    const buckets = {
      registry: `sonde-registry-t-${run}`,
      control: `sonde-control-t-${run}`,
      lease: `sonde-leases-t-${run}`,
    };
    const system = systemActor("scheduling-tests");
    let h: IdentityHarness;
    let bus: Bus;
    let watcher: RegistryWatcher;
    let agent: RunningAgent;
    let agentReg: Registration;
    let agentB: RunningAgent;
    let agentBReg: Registration;
    let poller: Poller;
    let caller: GrpcAgentCaller;
    let tcp: { server: Server; port: number };
    let a: string;
    let b: string;
    const schedulers: CheckScheduler[] = [];
    let results: CheckResults;
    const received: WorkItem[] = [];
    const undispatched: { subject: string; body: Record<string, unknown> }[] = [];
    const subs: Subscription[] = [];

    const checker = async (tenantId: string, id: string): Promise<Rec> =>
      h.kernel.get(h.kernel.resource("checker"), { actor: system, tenantId }, id);
    const agentId = async (tenantId: string, componentId: string): Promise<string> => {
      let id: string | undefined;
      await waitFor(
        async () => {
          const { records } = await h.kernel.list(
            h.kernel.resource("agent"),
            { actor: system, tenantId },
            { filter: { field: "component_id", op: "eq", value: componentId } },
          );
          id = records[0]?.id as string | undefined;
          return id !== undefined;
        },
        SOON,
        `agent ${componentId} registered`,
      );
      return String(id);
    };
    const newScheduler = (holderId: string) => {
      const s = new CheckScheduler({
        kernel: h.kernel,
        orm: h.t.db.orm,
        bus,
        logger: log,
        holderId,
        tickMs: 100,
        leaseTtlMs: 1_200,
        leaseBucket: buckets.lease,
        resultGraceMs: 1_000,
        onLost: (tenant, work) => results.lost(tenant, work),
      });
      schedulers.push(s);
      return s;
    };

    beforeAll(async () => {
      bus = await busTarget.open();
      h = await openIdentityHarness(target, { bus });
      a = await h.createTenant(slug.a);
      b = await h.createTenant(slug.b);
      watcher = await startRegistryWatcher({
        kernel: h.kernel,
        orm: h.t.db.orm,
        bus,
        logger: silentLogger,
        heartbeatMs: HEARTBEAT_MS,
        bucket: buckets.registry,
      });
      tcp = await listen();
      agent = await startAgent({
        listen: "127.0.0.1:0",
        agentId: "agent-a1",
        insecure: true,
        logger: silentLogger,
      });
      agentB = await startAgent({
        listen: "127.0.0.1:0",
        agentId: "agent-b1",
        insecure: true,
        logger: silentLogger,
      });
      const reg = (tenant: string, id: string, address: string) =>
        registerComponent(
          bus,
          {
            kind: "agent",
            tenant,
            partition: "p1",
            id,
            capabilities: ["tcp", "icmp"],
            version: "t",
            host: "localhost",
            address,
          },
          { heartbeatMs: HEARTBEAT_MS, bucket: buckets.registry },
        );
      agentReg = await reg(slug.a, "agent-a1", agent.address);
      agentBReg = await reg(slug.b, "agent-b1", agentB.address);
      caller = new GrpcAgentCaller({ pollerId: "poller-a1", insecure: true, logger: silentLogger });
      // Tenant A's poller only: B's partition has none.
      poller = await startPoller(bus, {
        tenant: slug.a,
        partition: "p1",
        id: "poller-a1",
        capabilities: ["tcp", "icmp"],
        version: "t",
        host: "localhost",
        agentCaller: {
          call: (agentEntry, work, signal) => {
            received.push(work);
            return caller.call(agentEntry, work, signal);
          },
        },
        logger: log,
        heartbeatMs: HEARTBEAT_MS,
        registryBucket: buckets.registry,
        controlBucket: buckets.control,
      });
      subs.push(
        bus.subscribe(`sonde.*.infra.dispatch.undispatched`, (msg) => {
          undispatched.push({ subject: msg.subject, body: msg.json() });
        }),
      );
      results = new CheckResults({
        kernel: h.kernel,
        orm: h.t.db.orm,
        bus,
        logger: log,
        durable: `sched_test_${run}`,
        // NATS keeps every run's results a day; a new durable would read them all before this run's.
        filterSubject: `sonde.${slug.a}.results.>`,
        onSettled: (id) => {
          for (const s of schedulers) s.settled(id);
        },
      });
      await results.start();
    }, 60_000);

    afterAll(async () => {
      for (const s of schedulers) await s.stop();
      await results?.stop();
      for (const sub of subs) await sub.unsubscribe();
      await poller?.stop();
      caller?.close();
      await agentReg?.stop();
      await agentBReg?.stop();
      await agent?.stop();
      await agentB?.stop();
      await watcher?.stop();
      tcp?.server.close();
      await h?.close();
      await bus?.close();
    });

    it("runs a checker through scheduler, poller and agent, and counts its results", async () => {
      const agentRow = await agentId(a, "agent-a1");
      const created = await h.kernel.create(
        h.kernel.resource("checker"),
        { actor: system, tenantId: a },
        {
          agent_id: agentRow,
          name: "ssh",
          check_type: "tcp",
          details: `127.0.0.1:${tcp.port}`,
          interval_seconds: 1,
          timeout_ms: 1_000,
          failure_threshold: 2,
        },
      );
      const id = String(created.id);
      const leader = newScheduler("core-1");
      await leader.start();
      await waitFor(async () => (await checker(a, id)).last_success_at !== null, SOON, "first success");
      const rec = await checker(a, id);
      expect(rec.status).toBe("active");
      expect(rec.consecutive_failures).toBe(0);
      expect(rec.last_result).toMatchObject({
        available: true,
        message: { available: true, port: tcp.port },
      });
      expect(Number(rec.last_response_time_ms)).toBeGreaterThanOrEqual(0);
      // Every run went to A's poller for A's checker, with the contract's service type for TCP.
      expect(received.every((w) => w.tenant === slug.a && w.service_type === "port")).toBe(true);
      expect(new Set(received.map((w) => w.id)).size).toBe(received.length);

      // The target goes away: the checker fails twice and turns failing.
      await new Promise<void>((resolve) => tcp.server.close(() => resolve()));
      await waitFor(async () => (await checker(a, id)).status === "failing", SOON, "checker failing");
      const failing = await checker(a, id);
      expect(Number(failing.consecutive_failures)).toBeGreaterThanOrEqual(2);
      expect(String(failing.reason)).not.toBe("");
    }, 60_000);

    it("a result applied twice, or one older than the last counted, changes nothing", async () => {
      const { records } = await h.kernel.list(
        h.kernel.resource("checker"),
        { actor: system, tenantId: a },
        {},
      );
      const rec = records[0] as Rec;
      const dueMs = new Date(String(rec.last_result_due_at)).getTime();
      const before = await checker(a, String(rec.id));
      await results.apply({
        work_id: `checker:${String(rec.id)}:${dueMs}`,
        tenant: slug.a,
        partition: "p1",
        poller_id: "poller-a1",
        agent_id: "agent-a1",
        available: false,
        message: null,
        response_time_ns: 0,
        error: "replayed",
        completed_at: new Date().toISOString(),
      });
      const after = await checker(a, String(rec.id));
      expect(after.consecutive_failures).toBe(before.consecutive_failures);
      expect(after.reason).toBe(before.reason);
    });

    it("leaves no system_write audit row per heartbeat or result; other system writes keep theirs", async () => {
      const { records } = await h.kernel.list(
        h.kernel.resource("checker"),
        { actor: system, tenantId: a },
        {},
      );
      const id = String(records[0]?.id);
      const rowsFor = (action: string) =>
        inScope(h.t.db.orm, { tenantId: a, bypass: false }, (tx) =>
          tx
            .select()
            .from(auditEvents)
            .where(and(eq(auditEvents.kind, "system_write"), eq(auditEvents.action, action))),
        );
      // Results were applied and heartbeats seen many times by now.
      expect(await rowsFor("record_outcome")).toEqual([]);
      expect(await rowsFor("heartbeat")).toEqual([]);
      expect(await rowsFor("claim_due")).toEqual([]);
      await h.kernel.update(h.kernel.resource("checker"), { actor: system, tenantId: a }, id, {
        failure_threshold: 2,
      });
      expect((await rowsFor("update")).some((r) => r.record_id === id)).toBe(true);
    });

    it("reports B's work undispatched on B's subject, and A's poller never runs it", async () => {
      const agentRow = await agentId(b, "agent-b1");
      const created = await h.kernel.create(
        h.kernel.resource("checker"),
        { actor: system, tenantId: b },
        { agent_id: agentRow, name: "b-ssh", check_type: "tcp", details: "127.0.0.1:9", interval_seconds: 1 },
      );
      const workPrefix = `checker:${String(created.id)}:`;
      await waitFor(
        () => undispatched.some((u) => String(u.body.work_id).startsWith(workPrefix)),
        SOON,
        "B's run reported undispatched",
      );
      const mine = undispatched.filter((u) => String(u.body.work_id).startsWith(workPrefix));
      expect(mine.every((u) => u.subject === `sonde.${slug.b}.infra.dispatch.undispatched`)).toBe(true);
      expect(mine[0]?.body).toMatchObject({ partition: "p1", reason: "no_responders" });
      expect(received.some((w) => w.id.startsWith(workPrefix) || w.tenant === slug.b)).toBe(false);
      const rec = await checker(b, String(created.id));
      expect(rec.last_success_at).toBeNull();
    }, 60_000);

    it("one scheduler leads; another takes over within the lease bound when it dies", async () => {
      const [first] = schedulers;
      const second = newScheduler("core-2");
      await second.start();
      await waitFor(() => first?.isLeader() === true, SOON, "first leads");
      for (let i = 0; i < 10; i++) {
        expect(Number(first?.isLeader()) + Number(second.isLeader())).toBeLessThanOrEqual(1);
        await new Promise((r) => setTimeout(r, 50));
      }
      const died = Date.now();
      await first?.abandon();
      await waitFor(() => second.isLeader(), SOON, "second takes over");
      // ttl + renew period, with room for a loaded machine.
      expect(Date.now() - died).toBeLessThan(1_200 + 400 + 3_000);
    }, 60_000);
  });
}

for (const target of [embeddedTarget, ...(serviceGate("postgres").run ? [postgresTarget] : [])]) {
  suite(target, memoryBus);
  if (serviceGate("nats").run) suite(target, natsBus);
}
