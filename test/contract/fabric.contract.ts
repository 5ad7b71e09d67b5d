import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Bus } from "../../src/platform/bus/types.js";
import {
  type ControlEntry,
  DISPATCH_QUEUE,
  type DispatchReply,
  dispatchReplySchema,
  dispatchSubject,
  REGISTRY_TTL_HEARTBEATS,
  registryEntrySchema,
  registryKey,
  type WorkItem,
  type WorkResult,
} from "../../src/platform/fabric/contract.js";
import { Dispatcher, type UndispatchedReason } from "../../src/platform/fabric/dispatcher.js";
import { acquireLease, type Lease } from "../../src/platform/fabric/lease.js";
import { type Poller, startPoller } from "../../src/platform/fabric/poller.js";
import {
  openRegistryBucket,
  type Registration,
  registerComponent,
} from "../../src/platform/fabric/registration.js";
import {
  consumeResults,
  ensureResultsStream,
  publishResult,
  publishResultBatch,
} from "../../src/platform/fabric/results.js";
import { startLoopbackTarget, TestTcpAgentCaller } from "../support/tcp-agent-caller.js";
import { sleep, waitFor } from "../support/wait.js";

const logger = pino({ level: "silent" });
const SOON = 5_000;
const HEARTBEAT_MS = 300;

export interface FabricContractOptions {
  /** Removes the buckets and consumers of one run (their names contain the run id). */
  readonly cleanup?: (runId: string) => Promise<void>;
}

/**
 * The polling fabric's behaviour on one bus adapter: registration, pollers, dispatch, results and the
 * scheduling lease. Buckets, tenants and durables carry a run id so runs against a shared NATS server
 * neither collide nor touch the shared `sonde-registry` bucket's TTL.
 */
export function fabricContract(
  name: string,
  factory: () => Promise<Bus>,
  options: FabricContractOptions = {},
): void {
  describe(`polling fabric: ${name}`, () => {
    const runId = randomBytes(4).toString("hex");
    let counter = 0;
    const unique = (prefix: string) => `${prefix}_${runId}_${++counter}`;
    const tenantA = `a${runId}`;
    const tenantB = `b${runId}`;
    let bus: Bus;
    let target: { address: string; close(): Promise<void> };
    const stops: Array<() => Promise<void>> = [];
    let testNo = 0;
    /** Partitions are per test: pollers of one test never answer another's dispatch. */
    const part = (name: string) => `${name}-${runId}-${testNo}`;

    beforeEach(() => {
      testNo++;
    });
    afterEach(async () => {
      for (const stop of stops.splice(0).toReversed()) await stop().catch(() => {});
    });

    beforeAll(async () => {
      bus = await factory();
      target = await startLoopbackTarget();
    });
    afterAll(async () => {
      await bus?.close();
      await target?.close();
      await options.cleanup?.(runId);
    });

    /** A fresh pair of buckets per test, so tests do not see each other's pollers and agents. */
    const buckets = () => ({ registryBucket: unique("reg"), controlBucket: unique("ctl") });

    const agent = async (
      bucket: string,
      tenant: string,
      partition: string,
      id: string,
      capabilities = ["tcp"],
    ): Promise<Registration> => {
      const r = await registerComponent(
        bus,
        {
          kind: "agent",
          tenant,
          partition,
          id,
          capabilities,
          version: "test",
          host: "localhost",
          address: "127.0.0.1:1",
        },
        { heartbeatMs: HEARTBEAT_MS, bucket },
      );
      stops.push(() => r.stop());
      return r;
    };

    const poller = async (
      b: { registryBucket: string; controlBucket: string },
      tenant: string,
      partition: string,
      id: string,
      caller: TestTcpAgentCaller,
      extra: { maxInFlight?: number; drainTimeoutMs?: number } = {},
    ): Promise<Poller> => {
      const p = await startPoller(bus, {
        tenant,
        partition,
        id,
        capabilities: ["tcp"],
        version: "test",
        host: "localhost",
        agentCaller: caller,
        logger,
        heartbeatMs: HEARTBEAT_MS,
        ...b,
        ...extra,
      });
      stops.push(() => p.stop());
      return p;
    };

    const work = (tenant: string, partition: string, capability = "tcp"): WorkItem => ({
      id: unique("w"),
      tenant,
      partition,
      capability,
      service_name: "loopback",
      service_type: "port",
      details: target.address,
      port: 0,
      timeout_ms: 5_000,
      attempt: 1,
    });

    const dispatcher = (extra: Partial<ConstructorParameters<typeof Dispatcher>[1]> = {}) => {
      const d = new Dispatcher(bus, {
        logger,
        requestTimeoutMs: 2_000,
        backoff: { initialMs: 50, maxMs: 200 },
        ...extra,
      });
      stops.push(async () => void d.stop());
      return d;
    };

    /** Every result of a tenant, as the consumer sees them. */
    const results = async (tenant: string, partition: string): Promise<WorkResult[]> => {
      const got: WorkResult[] = [];
      const c = await consumeResults(bus, unique("durable"), async (r) => void got.push(r), {
        logger,
        filterSubject: `sonde.${tenant}.results.${partition}`,
      });
      stops.push(() => c.stop());
      return got;
    };

    const setMode = async (
      controlBucket: string,
      tenant: string,
      partition: string,
      id: string,
      mode: ControlEntry["mode"],
    ) => {
      const kv = await bus.kv(controlBucket);
      const entry: ControlEntry = { mode, changedAt: new Date().toISOString(), actor: "test" };
      await kv.put(registryKey({ tenant, kind: "poller", partition, id }), JSON.stringify(entry));
    };

    describe("registration", () => {
      it("puts the entry, refreshes it every heartbeat, updates the mode and deletes it on stop", async () => {
        const bucket = unique("reg");
        const r = await agent(bucket, tenantA, part("p1"), "ag1");
        const kv = await bus.kv(bucket);
        const first = registryEntrySchema.parse((await kv.get(r.key))?.json());
        expect(first).toMatchObject({
          kind: "agent",
          tenant: tenantA,
          partition: part("p1"),
          id: "ag1",
          mode: "active",
        });
        expect(r.key).toBe(`${tenantA}.agent.${part("p1")}.ag1`);
        // Refreshed past the TTL: the entry outlives REGISTRY_TTL_HEARTBEATS heartbeats.
        await sleep(HEARTBEAT_MS * (REGISTRY_TTL_HEARTBEATS + 1));
        const later = registryEntrySchema.parse((await kv.get(r.key))?.json());
        expect(Date.parse(later.heartbeatAt)).toBeGreaterThan(Date.parse(first.heartbeatAt));
        expect(later.startedAt).toBe(first.startedAt);
        await r.setMode("draining");
        expect(registryEntrySchema.parse((await kv.get(r.key))?.json()).mode).toBe("draining");
        await r.stop();
        expect(await kv.get(r.key)).toBeNull();
        await sleep(HEARTBEAT_MS * 2);
        expect(await kv.get(r.key)).toBeNull();
      });

      it("lets an entry whose heartbeats stopped expire with the bucket TTL", async () => {
        const bucket = unique("reg");
        const kv = await openRegistryBucket(bus, HEARTBEAT_MS, bucket);
        const r = await agent(bucket, tenantA, part("p1"), "alive");
        // A component that registered once and died: one put, no heartbeat after it.
        const now = new Date().toISOString();
        const deadKey = registryKey({ tenant: tenantA, kind: "agent", partition: part("p1"), id: "dead" });
        await kv.put(
          deadKey,
          JSON.stringify({ ...r.current(), id: "dead", startedAt: now, heartbeatAt: now }),
        );
        await waitFor(async () => (await kv.get(deadKey)) === null, SOON, "the silent entry to expire");
        expect(await kv.get(r.key)).not.toBeNull();
      });

      it("refuses an entry that breaks the contract", async () => {
        await expect(
          registerComponent(
            bus,
            {
              kind: "agent",
              tenant: "Bad Tenant",
              partition: part("p1"),
              id: "x",
              capabilities: [],
              version: "t",
              host: "h",
            },
            { heartbeatMs: HEARTBEAT_MS, bucket: unique("reg") },
          ),
        ).rejects.toThrow();
      });
    });

    describe("dispatch", () => {
      it("spreads work across two pollers of a partition and lands each result once", async () => {
        const b = buckets();
        await agent(b.registryBucket, tenantA, part("p1"), "ag1");
        await agent(b.registryBucket, tenantA, part("p1"), "ag2");
        const caller = new TestTcpAgentCaller();
        await poller(b, tenantA, part("p1"), "pa", caller);
        await poller(b, tenantA, part("p1"), "pb", caller);
        const got = await results(tenantA, part("p1"));
        const d = dispatcher();
        const items = Array.from({ length: 40 }, () => work(tenantA, part("p1")));
        // One at a time: each is its own request, and the queue group picks a member for each.
        const outcomes = [];
        for (const w of items) outcomes.push(await d.dispatch(w));
        const by = new Map<string, number>();
        for (const o of outcomes) {
          expect(o.status).toBe("accepted");
          if (o.status === "accepted") by.set(o.pollerId, (by.get(o.pollerId) ?? 0) + 1);
        }
        expect(by.get("pa") ?? 0).toBeGreaterThan(0);
        expect(by.get("pb") ?? 0).toBeGreaterThan(0);
        await waitFor(() => got.length >= items.length, SOON, "all results");
        await sleep(200);
        expect(got.map((r) => r.work_id).sort()).toEqual(items.map((w) => w.id).sort());
        expect(got.every((r) => r.available && r.error === null)).toBe(true);
        // Round-robin over the partition's agents: both were used.
        expect(new Set(caller.calls.map((c) => c.agent))).toEqual(new Set(["ag1", "ag2"]));
      });

      it("sends work dispatched together as one batch, answered item by item, each run once", async () => {
        const b = buckets();
        await agent(b.registryBucket, tenantA, part("pz"), "ag1");
        const caller = new TestTcpAgentCaller();
        await poller(b, tenantA, part("pz"), "pz1", caller);
        const got = await results(tenantA, part("pz"));
        const requests: number[] = [];
        const spy = bus.subscribe(`sonde.${tenantA}.dispatch.${part("pz")}`, (m) => {
          const body = m.json<{ items?: unknown[] }>();
          requests.push(Array.isArray(body.items) ? body.items.length : 1);
        });
        stops.push(() => spy.unsubscribe());
        const d = dispatcher();
        const items = Array.from({ length: 30 }, () => work(tenantA, part("pz")));
        // One invalid item among them: refused alone, the others still accepted.
        const outcomes = await Promise.all([
          ...items.map((w) => d.dispatch(w)),
          d.dispatch({ ...work(tenantA, part("pz")), capability: "sonar" }),
        ]);
        expect(outcomes.slice(0, 30).every((o) => o.status === "accepted")).toBe(true);
        expect(outcomes[30]).toMatchObject({ status: "undispatched", reason: "refused" });
        await waitFor(() => got.length >= items.length, SOON, "all results");
        await sleep(200);
        expect(got.map((r) => r.work_id).sort()).toEqual(items.map((w) => w.id).sort());
        // The first round went as one request holding everything dispatched in that turn.
        expect(requests[0]).toBe(31);
        expect(new Set(caller.calls.map((c) => c.work)).size).toBe(30);
      });

      it("sends nothing to a draining poller, and resumes it", async () => {
        const b = buckets();
        await agent(b.registryBucket, tenantA, part("p1"), "ag1");
        const caller = new TestTcpAgentCaller();
        const pa = await poller(b, tenantA, part("p1"), "pa", caller);
        await poller(b, tenantA, part("p1"), "pb", caller);
        await setMode(b.controlBucket, tenantA, part("p1"), "pa", "draining");
        await waitFor(() => pa.mode() === "draining" && !pa.subscribed(), SOON, "pa to drain");
        const reg = await bus.kv(b.registryBucket);
        await waitFor(
          async () => registryEntrySchema.parse((await reg.get(pa.key))?.json()).mode === "draining",
          SOON,
          "the registry to show pa draining",
        );
        const d = dispatcher();
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, () => d.dispatch(work(tenantA, part("p1")))),
        );
        expect(outcomes.map((o) => (o.status === "accepted" ? o.pollerId : o.status))).toEqual(
          Array(20).fill("pb"),
        );

        await setMode(b.controlBucket, tenantA, part("p1"), "pa", "active");
        await waitFor(() => pa.mode() === "active" && pa.subscribed(), SOON, "pa to resume");
        const taken = new Set<string>();
        for (let i = 0; i < 200 && !taken.has("pa"); i++) {
          const o = await d.dispatch(work(tenantA, part("p1")));
          if (o.status === "accepted") taken.add(o.pollerId);
        }
        expect(taken.has("pa")).toBe(true);
      });

      it("refuses work in maintenance while staying in the group", async () => {
        const b = buckets();
        await agent(b.registryBucket, tenantA, part("p3"), "ag1");
        const pm = await poller(b, tenantA, part("p3"), "pm", new TestTcpAgentCaller());
        await setMode(b.controlBucket, tenantA, part("p3"), "pm", "maintenance");
        await waitFor(() => pm.mode() === "maintenance", SOON, "maintenance");
        expect(pm.subscribed()).toBe(true);
        const reply = await ask(bus, work(tenantA, part("p3")));
        expect(reply).toMatchObject({ accepted: false, reason: "maintenance", poller_id: "pm" });
      });

      it("reports work nobody takes as undispatched, keeps it, and delivers it once a poller appears", async () => {
        const b = buckets();
        const undispatched: Array<{ id: string; reason: UndispatchedReason }> = [];
        const accepted: string[] = [];
        const d = dispatcher({
          onUndispatched: (w, reason) => undispatched.push({ id: w.id, reason }),
          onAccepted: (w) => accepted.push(w.id),
        });
        const got = await results(tenantA, part("p4"));
        const w = work(tenantA, part("p4"));
        const first = await d.dispatch(w);
        expect(first).toMatchObject({ status: "undispatched", reason: "no_responders" });
        expect(undispatched[0]).toEqual({ id: w.id, reason: "no_responders" });
        expect(d.pending().map((p) => p.work.id)).toEqual([w.id]);
        // Dispatching the same id again does not duplicate it.
        await d.dispatch(w);
        expect(d.pending()).toHaveLength(1);
        await waitFor(() => undispatched.length >= 3, SOON, "backoff retries");

        await agent(b.registryBucket, tenantA, part("p4"), "ag1");
        await poller(b, tenantA, part("p4"), "late", new TestTcpAgentCaller());
        await waitFor(() => accepted.includes(w.id), SOON, "the retried work to be accepted");
        expect(d.pending()).toEqual([]);
        await waitFor(() => got.some((r) => r.work_id === w.id), SOON, "its result");
        await sleep(200);
        expect(got.filter((r) => r.work_id === w.id)).toHaveLength(1);
      });

      it("treats a poller that does not answer as a timeout and retries the work elsewhere", async () => {
        const b = buckets();
        // Something in the queue group that takes requests and never answers (a hung poller).
        const hung = bus.subscribe(dispatchSubject(tenantA, part("p9")), () => {}, { queue: DISPATCH_QUEUE });
        const reasons: UndispatchedReason[] = [];
        const accepted: string[] = [];
        const d = dispatcher({
          requestTimeoutMs: 200,
          onUndispatched: (_w, reason) => reasons.push(reason),
          onAccepted: (w) => accepted.push(w.id),
        });
        const w = work(tenantA, part("p9"));
        expect(await d.dispatch(w)).toMatchObject({ status: "undispatched", reason: "timeout" });
        await hung.unsubscribe();
        await agent(b.registryBucket, tenantA, part("p9"), "ag1");
        await poller(b, tenantA, part("p9"), "healthy", new TestTcpAgentCaller());
        await waitFor(() => accepted.includes(w.id), SOON, "the timed-out work to be accepted");
        expect(reasons[0]).toBe("timeout");
        expect(d.pending()).toEqual([]);
      });

      it("refuses with no_agent when no agent of the partition has the capability", async () => {
        const b = buckets();
        await agent(b.registryBucket, tenantA, part("p5"), "pinger", ["icmp"]);
        await agent(b.registryBucket, tenantA, part("other"), "elsewhere", ["tcp"]);
        const caller = new TestTcpAgentCaller();
        await poller(b, tenantA, part("p5"), "pn", caller);
        expect(await ask(bus, work(tenantA, part("p5"), "tcp"))).toMatchObject({
          accepted: false,
          reason: "no_agent",
        });
        const d = dispatcher({ refusalRetries: 1 });
        const o = await d.dispatch(work(tenantA, part("p5"), "tcp"));
        expect(o).toMatchObject({ status: "undispatched", reason: "refused" });
        expect(o.status === "undispatched" ? o.detail : "").toContain("no_agent");
        expect(caller.calls).toEqual([]);
      });

      it("runs work bound to an agent on that agent only, and refuses it when that agent is gone", async () => {
        const b = buckets();
        await agent(b.registryBucket, tenantA, part("p7"), "first");
        await agent(b.registryBucket, tenantA, part("p7"), "second");
        const caller = new TestTcpAgentCaller();
        await poller(b, tenantA, part("p7"), "pb", caller);
        for (let i = 0; i < 4; i++) {
          expect(await ask(bus, { ...work(tenantA, part("p7"), "tcp"), agent_id: "second" })).toMatchObject({
            accepted: true,
          });
        }
        await waitFor(() => caller.calls.length === 4, SOON, "four calls");
        expect(new Set(caller.calls.map((c) => c.agent))).toEqual(new Set(["second"]));
        expect(await ask(bus, { ...work(tenantA, part("p7"), "tcp"), agent_id: "third" })).toMatchObject({
          accepted: false,
          reason: "no_agent",
        });
      });

      it("refuses invalid work", async () => {
        const b = buckets();
        await agent(b.registryBucket, tenantA, part("p6"), "ag1");
        await poller(b, tenantA, part("p6"), "pi", new TestTcpAgentCaller());
        const msg = await bus.request(dispatchSubject(tenantA, part("p6")), JSON.stringify({ id: "" }), {
          timeoutMs: SOON,
        });
        expect(dispatchReplySchema.parse(msg.json())).toMatchObject({ accepted: false, reason: "invalid" });
        const elsewhere = { ...work(tenantA, part("p6")), partition: part("p7") };
        const reply = await bus.request(dispatchSubject(tenantA, part("p6")), JSON.stringify(elsewhere), {
          timeoutMs: SOON,
        });
        expect(dispatchReplySchema.parse(reply.json())).toMatchObject({
          accepted: false,
          reason: "wrong_partition",
        });
      });

      it("never lets work for partition p1 reach a p2 poller", async () => {
        const b = buckets();
        await agent(b.registryBucket, tenantA, part("p1"), "ag1");
        await agent(b.registryBucket, tenantA, part("p2"), "ag2");
        const c1 = new TestTcpAgentCaller();
        const c2 = new TestTcpAgentCaller();
        await poller(b, tenantA, part("p1"), "one", c1);
        await poller(b, tenantA, part("p2"), "two", c2);
        const d = dispatcher();
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, () => d.dispatch(work(tenantA, part("p1")))),
        );
        expect(outcomes.map((o) => (o.status === "accepted" ? o.pollerId : o.status))).toEqual(
          Array(10).fill("one"),
        );
        await waitFor(() => c1.calls.length === 10, SOON, "p1's checks");
        expect(c2.calls).toEqual([]);
        expect(new Set(c1.calls.map((c) => c.agent))).toEqual(new Set(["ag1"]));
      });

      it("runs a redelivered work id once", async () => {
        const b = buckets();
        await agent(b.registryBucket, tenantA, part("p8"), "ag1");
        const caller = new TestTcpAgentCaller();
        await poller(b, tenantA, part("p8"), "pd", caller);
        const w = work(tenantA, part("p8"));
        expect(await ask(bus, w)).toMatchObject({ accepted: true });
        expect(await ask(bus, w)).toMatchObject({ accepted: true });
        await waitFor(() => caller.calls.length === 1, SOON, "the check");
        await sleep(200);
        expect(caller.calls).toHaveLength(1);
      });
    });

    describe("cross-tenant", () => {
      it("never hands tenant A's work or agents to a tenant-B poller", async () => {
        const b = buckets();
        await agent(b.registryBucket, tenantA, part("p1"), "a-agent");
        const callerB = new TestTcpAgentCaller();
        await poller(b, tenantB, part("p1"), "pb", callerB);
        // B's poller does not see A's agent, though both use partition p1 and the same bucket.
        expect(await ask(bus, work(tenantB, part("p1")))).toMatchObject({
          accepted: false,
          reason: "no_agent",
        });
        // A's work has no responder: B's poller is not in A's queue group.
        const d = dispatcher({ refusalRetries: 0 });
        const o = await d.dispatch(work(tenantA, part("p1")));
        expect(o).toMatchObject({ status: "undispatched", reason: "no_responders" });
        // Work claiming tenant A sent on B's subject is refused, not run.
        const forged = { ...work(tenantA, part("p1")) };
        const reply = await bus.request(dispatchSubject(tenantB, part("p1")), JSON.stringify(forged), {
          timeoutMs: SOON,
        });
        expect(dispatchReplySchema.parse(reply.json())).toMatchObject({
          accepted: false,
          reason: "wrong_partition",
        });
        // An entry under B's key prefix that claims tenant A is ignored too.
        const reg = await bus.kv(b.registryBucket);
        const now = new Date().toISOString();
        await reg.put(
          registryKey({ tenant: tenantB, kind: "agent", partition: part("p1"), id: "forged" }),
          JSON.stringify({
            kind: "agent",
            tenant: tenantA,
            partition: part("p1"),
            id: "forged",
            capabilities: ["tcp"],
            version: "t",
            host: "h",
            mode: "active",
            startedAt: now,
            heartbeatAt: now,
          }),
        );
        await sleep(200);
        expect(await ask(bus, work(tenantB, part("p1")))).toMatchObject({
          accepted: false,
          reason: "no_agent",
        });
        expect(callerB.calls).toEqual([]);
        // Tenant B's results consumer sees none of A's results.
        const gotB = await results(tenantB, part("p1"));
        await agent(b.registryBucket, tenantA, part("p1"), "a-agent2");
        await poller(b, tenantA, part("p1"), "pa", new TestTcpAgentCaller());
        const gotA = await results(tenantA, part("p1"));
        const wa = work(tenantA, part("p1"));
        expect(await d.dispatch(wa)).toMatchObject({ status: "accepted", pollerId: "pa" });
        await waitFor(() => gotA.some((r) => r.work_id === wa.id), SOON, "A's result");
        expect(gotB).toEqual([]);
      });
      it("applies a control entry only to the poller of its own tenant", async () => {
        const b = buckets();
        const pa = await poller(b, tenantA, part("p1"), "same-id", new TestTcpAgentCaller());
        const pb = await poller(b, tenantB, part("p1"), "same-id", new TestTcpAgentCaller());
        await setMode(b.controlBucket, tenantB, part("p1"), "same-id", "draining");
        await waitFor(() => pb.mode() === "draining" && !pb.subscribed(), SOON, "B's poller to drain");
        // A's poller, same partition and id under another tenant, was not touched.
        await sleep(200);
        expect(pa.mode()).toBe("active");
        expect(pa.subscribed()).toBe(true);
        expect(pa.key).not.toBe(pb.key);
      });
    });

    describe("results", () => {
      it("stores a result once per work id and attempt, and redelivers until the handler succeeds", async () => {
        const tenant = tenantA;
        const result: WorkResult = {
          work_id: unique("w"),
          tenant,
          partition: part("r1"),
          poller_id: "p",
          agent_id: "a",
          available: true,
          message: { ok: true },
          response_time_ns: 5,
          error: null,
          completed_at: new Date().toISOString(),
        };
        await ensureResultsStream(bus);
        const first = await publishResult(bus, result, 1);
        const again = await publishResult(bus, result, 1);
        expect(first.duplicate).toBe(false);
        expect(again.duplicate).toBe(true);
        let calls = 0;
        const handled: string[] = [];
        const c = await consumeResults(
          bus,
          unique("durable"),
          async (r) => {
            calls++;
            if (calls === 1) throw new Error("database down");
            handled.push(r.work_id);
          },
          { logger, filterSubject: `sonde.${tenant}.results.${part("r1")}`, ackWaitMs: 1_000 },
        );
        stops.push(() => c.stop());
        await waitFor(() => handled.length === 1, SOON, "the retried result");
        await sleep(300);
        expect(handled).toEqual([result.work_id]);
        expect(calls).toBe(2);
      });
    });

    describe("result batches", () => {
      it("delivers a batch result by result, and drops results naming another tenant than their subject", async () => {
        const mk = (tenant: string, i: number): WorkResult => ({
          work_id: unique(`b${i}`),
          tenant,
          partition: part("rb"),
          poller_id: "p",
          agent_id: "a",
          available: true,
          message: null,
          response_time_ns: 1,
          error: null,
          completed_at: new Date().toISOString(),
        });
        await ensureResultsStream(bus);
        const handled: WorkResult[] = [];
        const c = await consumeResults(bus, unique("durable"), async (r) => void handled.push(r), {
          logger,
          filterSubject: `sonde.${tenantA}.results.${part("rb")}`,
        });
        stops.push(() => c.stop());
        const batch = [mk(tenantA, 1), mk(tenantA, 2), mk(tenantA, 3)];
        await publishResultBatch(bus, batch, unique("batch"));
        // On A's subject but claiming to be B's: never applied to anyone.
        const forged = { ...mk(tenantB, 4) };
        await bus.streamPublish(
          `sonde.${tenantA}.results.${part("rb")}`,
          JSON.stringify({ results: [forged] }),
        );
        const last = mk(tenantA, 5);
        await publishResultBatch(bus, [last], unique("batch"));
        await waitFor(() => handled.some((r) => r.work_id === last.work_id), SOON, "the last batch");
        expect(handled.map((r) => r.work_id)).toEqual([...batch.map((r) => r.work_id), last.work_id]);
        expect(() => publishResultBatch(bus, [mk(tenantA, 6), mk(tenantB, 7)], unique("mixed"))).toThrow();
      });
    });

    describe("stopping a poller", () => {
      it("finishes its in-flight work before deregistering", async () => {
        const b = buckets();
        await agent(b.registryBucket, tenantA, part("s1"), "ag1");
        const p = await poller(b, tenantA, part("s1"), "stopper", new TestTcpAgentCaller(300));
        const got = await results(tenantA, part("s1"));
        const d = dispatcher();
        const items = Array.from({ length: 5 }, () => work(tenantA, part("s1")));
        for (const w of items) expect(await d.dispatch(w)).toMatchObject({ status: "accepted" });
        expect(p.inFlight()).toBe(5);
        await p.stop();
        expect(p.inFlight()).toBe(0);
        await waitFor(() => got.length >= 5, SOON, "the finished results");
        expect(got.map((r) => r.work_id).sort()).toEqual(items.map((w) => w.id).sort());
        expect(got.every((r) => r.available)).toBe(true);
        expect(await (await bus.kv(b.registryBucket)).get(p.key)).toBeNull();
      });

      it("publishes an aborted result for work still running at the drain timeout", async () => {
        const b = buckets();
        await agent(b.registryBucket, tenantA, part("s2"), "ag1");
        const p = await poller(b, tenantA, part("s2"), "slow", new TestTcpAgentCaller(10_000), {
          drainTimeoutMs: 100,
        });
        const got = await results(tenantA, part("s2"));
        const w = work(tenantA, part("s2"));
        expect(await dispatcher().dispatch(w)).toMatchObject({ status: "accepted" });
        await p.stop();
        await waitFor(() => got.some((r) => r.work_id === w.id), SOON, "the aborted result");
        expect(got.find((r) => r.work_id === w.id)).toMatchObject({ available: false });
        expect(got.find((r) => r.work_id === w.id)?.error).toMatch(/aborted/);
      });

      it("refuses work beyond its in-flight limit as busy", async () => {
        const b = buckets();
        await agent(b.registryBucket, tenantA, part("s3"), "ag1");
        await poller(b, tenantA, part("s3"), "small", new TestTcpAgentCaller(500), { maxInFlight: 2 });
        expect(await ask(bus, work(tenantA, part("s3")))).toMatchObject({ accepted: true });
        expect(await ask(bus, work(tenantA, part("s3")))).toMatchObject({ accepted: true });
        expect(await ask(bus, work(tenantA, part("s3")))).toMatchObject({ accepted: false, reason: "busy" });
      });
    });

    describe("scheduling lease", () => {
      const TTL = 600;

      const pair = async (bucket: string, leaseName: string) => {
        const lost: string[] = [];
        const make = (holder: string) =>
          acquireLease(bus, leaseName, holder, {
            ttlMs: TTL,
            bucket,
            logger,
            onLost: () => lost.push(holder),
          });
        const one = await make("core-1");
        const two = await make("core-2");
        stops.push(
          () => one.release(),
          () => two.release(),
        );
        return { one, two, lost };
      };

      /** Samples both holders every few ms; fails if both lead at once; returns who led when. */
      const watchLeaders = async (leases: Lease[], forMs: number): Promise<string[]> => {
        const seen: string[] = [];
        const until = Date.now() + forMs;
        while (Date.now() < until) {
          const leaders = leases.filter((l) => l.isLeader()).map((l) => l.holderId);
          expect(leaders.length).toBeLessThanOrEqual(1);
          if (leaders[0] !== undefined && seen.at(-1) !== leaders[0]) seen.push(leaders[0]);
          await sleep(5);
        }
        return seen;
      };

      it("lets exactly one holder lead, over many renewals", async () => {
        const { one, two, lost } = await pair(unique("lease"), "scheduler");
        expect(one.isLeader()).toBe(true);
        expect(two.isLeader()).toBe(false);
        const leaders = await watchLeaders([one, two], TTL * 4);
        expect(leaders).toEqual(["core-1"]);
        expect(lost).toEqual([]);
      });

      it("hands over within ttl + renew period when the leader stops renewing", async () => {
        const { one, two } = await pair(unique("lease"), "scheduler");
        expect(one.isLeader()).toBe(true);
        const died = Date.now();
        one.abandon();
        await waitFor(() => two.isLeader(), TTL + TTL / 3 + 500, "core-2 to take over");
        expect(Date.now() - died).toBeLessThanOrEqual(TTL + TTL / 3 + 500);
        const leaders = await watchLeaders([one, two], TTL * 2);
        expect(leaders).toEqual(["core-2"]);
      });

      it("hands over cleanly after release", async () => {
        const { one, two, lost } = await pair(unique("lease"), "scheduler");
        await one.release();
        expect(one.isLeader()).toBe(false);
        await waitFor(() => two.isLeader(), TTL, "core-2 to take the released lease");
        expect(lost).toEqual([]);
        await watchLeaders([one, two], TTL);
      });

      it("tells a leader it lost the lease when another holder took it", async () => {
        const bucket = unique("lease");
        const { one, lost } = await pair(bucket, "scheduler");
        expect(one.isLeader()).toBe(true);
        const kv = await bus.kv(bucket);
        await kv.put(
          "scheduler",
          JSON.stringify({ holder: "intruder", expiresAt: Date.now() + 60_000, acquiredAt: Date.now() }),
        );
        await waitFor(() => lost.includes("core-1"), TTL, "onLost");
        expect(one.isLeader()).toBe(false);
      });
    });
  });
}

async function ask(bus: Bus, work: WorkItem): Promise<DispatchReply> {
  const msg = await bus.request(dispatchSubject(work.tenant, work.partition), JSON.stringify(work), {
    timeoutMs: SOON,
  });
  return dispatchReplySchema.parse(msg.json());
}
