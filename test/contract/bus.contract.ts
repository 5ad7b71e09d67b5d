import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ErrorCode, isSondeError } from "../../src/lib/errors.js";
import { subjectFor, subjectPattern } from "../../src/platform/bus/subjects.js";
import type { Bus, InboundMessage, KvBucket, KvEntry, StreamMessage } from "../../src/platform/bus/types.js";
import { sleep, waitFor } from "../support/wait.js";

export interface BusContractOptions {
  /**
   * Runs after the suite with the run id that every stream, bucket and subject of this run contains,
   * so a server-backed harness can remove whatever a failed test left behind.
   */
  readonly cleanup?: (runId: string) => Promise<void>;
}

/** Bound for waits, generous for a loaded CI machine; each wait ends as soon as its condition holds. */
const SOON = 3_000;

async function expectCode(action: Promise<unknown> | (() => unknown), code: ErrorCode): Promise<void> {
  let caught: unknown;
  try {
    await (typeof action === "function" ? action() : action);
  } catch (err) {
    caught = err;
  }
  expect(isSondeError(caught, code), `expected ${code}, got ${String(caught)}`).toBe(true);
}

/**
 * The behaviour every Bus adapter must show. `factory` opens a new bus; the suite closes what it opens.
 * Names carry a random run id so runs against a shared server neither collide nor depend on each other.
 */
export function busContract(
  name: string,
  factory: () => Promise<Bus>,
  options: BusContractOptions = {},
): void {
  describe(`bus contract: ${name}`, () => {
    const runId = randomBytes(4).toString("hex");
    const tenant = `t${runId}`;
    let counter = 0;
    const unique = (prefix: string) => `${prefix}_${runId}_${++counter}`;
    const subject = (...tokens: string[]) => subjectFor(tenant, "test", ...tokens);
    let bus: Bus;

    beforeAll(async () => {
      bus = await factory();
    });

    afterAll(async () => {
      await bus?.close();
      await options.cleanup?.(runId);
    });

    async function withBucket(
      opts: { ttlMs?: number },
      body: (kv: KvBucket) => Promise<void>,
    ): Promise<void> {
      const kv = await bus.kv(unique("kv"), opts);
      try {
        await body(kv);
      } finally {
        await kv.destroy();
      }
    }

    async function newStream(
      limits: { maxAgeMs?: number; maxMsgs?: number } = {},
      on: Bus = bus,
    ): Promise<{ name: string; subject: (token: string) => string }> {
      const area = `s${++counter}`;
      const streamName = `TEST_${runId}_${area}`;
      await on.ensureStream({ name: streamName, subjects: [`sonde.${tenant}.${area}.>`], ...limits });
      return { name: streamName, subject: (token) => `sonde.${tenant}.${area}.${token}` };
    }

    describe("publish and subscribe", () => {
      it("delivers a message on an exact subject, never inside publish()", async () => {
        const s = subject("exact");
        const got: InboundMessage[] = [];
        const sub = bus.subscribe(s, (m) => {
          got.push(m);
        });
        const sent = bus.publish(s, "hello");
        expect(got).toHaveLength(0);
        await sent;
        await waitFor(() => got.length === 1, SOON, "delivery");
        const [msg] = got;
        expect(msg?.subject).toBe(s);
        expect(msg?.text()).toBe("hello");
        expect(msg?.data).toBeInstanceOf(Uint8Array);
        expect(msg?.headers).toBeUndefined();
        expect(msg?.replyTo).toBeUndefined();
        expect(sub.subject).toBe(s);
        await sub.unsubscribe();
      });

      it("matches * to one token and > to one or more trailing tokens", async () => {
        const star: string[] = [];
        const tail: string[] = [];
        const a = bus.subscribe(subjectPattern(tenant, "test", "wild", "*"), (m) => {
          star.push(m.subject);
        });
        const b = bus.subscribe(subjectPattern(tenant, "test", "wild", ">"), (m) => {
          tail.push(m.subject);
        });
        await bus.publish(subject("wild"), "neither: > and * need a token here");
        await bus.publish(subject("wild", "one"), "both");
        await bus.publish(subject("wild", "one", "two"), "only >");
        await bus.publish(subject("other", "one"), "neither");
        // Delivery is ordered per subscription, so once the last message is in, nothing else is coming.
        await bus.publish(subject("wild", "last"), "both");
        await waitFor(
          () => star.includes(subject("wild", "last")) && tail.includes(subject("wild", "last")),
          SOON,
        );
        expect(star).toEqual([subject("wild", "one"), subject("wild", "last")]);
        expect(tail).toEqual([
          subject("wild", "one"),
          subject("wild", "one", "two"),
          subject("wild", "last"),
        ]);
        await a.unsubscribe();
        await b.unsubscribe();
      });

      it("gives each message to exactly one queue group member while a plain subscriber gets all", async () => {
        const s = subject("queue");
        const first: string[] = [];
        const second: string[] = [];
        const all: string[] = [];
        const subs = [
          bus.subscribe(s, (m) => void first.push(m.text()), { queue: "workers" }),
          bus.subscribe(s, (m) => void second.push(m.text()), { queue: "workers" }),
          bus.subscribe(s, (m) => void all.push(m.text())),
        ];
        for (let i = 0; i < 20; i++) await bus.publish(s, String(i));
        await waitFor(() => all.length === 20 && first.length + second.length >= 20, SOON, "20 deliveries");
        expect(first.length + second.length).toBe(20);
        expect(new Set([...first, ...second]).size).toBe(20);
        expect(first.length).toBeGreaterThan(0);
        expect(second.length).toBeGreaterThan(0);
        for (const sub of subs) await sub.unsubscribe();
      });

      it("stops delivery after unsubscribe()", async () => {
        const s = subject("unsub");
        const got: string[] = [];
        const witness: string[] = [];
        const sub = bus.subscribe(s, (m) => void got.push(m.text()));
        await bus.publish(s, "before");
        await waitFor(() => got.length === 1, SOON);
        await sub.unsubscribe();
        await sub.unsubscribe();
        const w = bus.subscribe(s, (m) => void witness.push(m.text()));
        await bus.publish(s, "after");
        await waitFor(() => witness.length === 1, SOON, "the witness to see the message");
        expect(got).toEqual(["before"]);
        await w.unsubscribe();
      });

      it("carries headers and JSON payloads", async () => {
        const s = subject("headers");
        const got: InboundMessage[] = [];
        const sub = bus.subscribe(s, (m) => void got.push(m));
        await bus.publish(s, JSON.stringify({ n: 1, name: "ünïcode" }), {
          headers: { "x-tenant": "acme", "X-Trace-Id": "abc-123" },
        });
        await waitFor(() => got.length === 1, SOON);
        expect(got[0]?.headers?.["x-tenant"]).toBe("acme");
        expect(got[0]?.headers?.["X-Trace-Id"]).toBe("abc-123");
        expect(got[0]?.json()).toEqual({ n: 1, name: "ünïcode" });
        await bus.publish(s, "not json", { headers: {} });
        await waitFor(() => got.length === 2, SOON);
        expect(got[1]?.headers).toBeUndefined();
        await expectCode(() => got[1]?.json(), "SONDE_BAD_REQUEST");
        await sub.unsubscribe();
      });

      it("keeps a subscription alive when its handler throws or rejects", async () => {
        const s = subject("throws");
        let syncCalls = 0;
        let asyncCalls = 0;
        const a = bus.subscribe(s, () => {
          syncCalls++;
          if (syncCalls === 1) throw new Error("boom (expected by the test)");
        });
        const b = bus.subscribe(s, async () => {
          asyncCalls++;
          if (asyncCalls === 1) throw new Error("async boom (expected by the test)");
        });
        await bus.publish(s, "1");
        await bus.publish(s, "2");
        await waitFor(() => syncCalls === 2 && asyncCalls === 2, SOON);
        await a.unsubscribe();
        await b.unsubscribe();
      });

      it("rejects invalid subjects", async () => {
        await expectCode(bus.publish("sonde.bad subject", "x"), "SONDE_BUS_INVALID_SUBJECT");
        await expectCode(bus.publish("sonde.*.x", "x"), "SONDE_BUS_INVALID_SUBJECT");
        await expectCode(bus.publish("sonde.x.>", "x"), "SONDE_BUS_INVALID_SUBJECT");
        await expectCode(bus.publish("sonde..x", "x"), "SONDE_BUS_INVALID_SUBJECT");
        await expectCode(bus.publish("", "x"), "SONDE_BUS_INVALID_SUBJECT");
        await expectCode(() => bus.subscribe("sonde.>.x", () => {}), "SONDE_BUS_INVALID_SUBJECT");
        await expectCode(() => bus.subscribe("sonde.a\tb", () => {}), "SONDE_BUS_INVALID_SUBJECT");
        await expectCode(
          () => bus.subscribe(subject("q"), () => {}, { queue: "has space" }),
          "SONDE_BUS_INVALID_SUBJECT",
        );
        await expectCode(bus.request("sonde.*", "x", { timeoutMs: 100 }), "SONDE_BUS_INVALID_SUBJECT");
        await expectCode(bus.request(subject("x"), "x", { timeoutMs: 0 }), "SONDE_BAD_REQUEST");
        await expectCode(bus.streamPublish("sonde.>", "x"), "SONDE_BUS_INVALID_SUBJECT");
        await expectCode(() => subjectFor("acme.evil", "dispatch"), "SONDE_BUS_INVALID_SUBJECT");
        await expectCode(() => subjectFor("*", "dispatch"), "SONDE_BUS_INVALID_SUBJECT");
        await expectCode(() => subjectFor("Acme Corp", "dispatch"), "SONDE_BUS_INVALID_SUBJECT");
        await expectCode(() => subjectFor("acme", "dispatch", "p1.x"), "SONDE_BUS_INVALID_SUBJECT");
      });
    });

    describe("request and reply", () => {
      it("returns the reply, with headers both ways", async () => {
        const s = subject("echo");
        const sub = bus.subscribe(s, (m) => {
          m.respond(JSON.stringify({ echo: m.text(), tenant: m.headers?.["x-tenant"] }), {
            headers: { "x-answered": "yes" },
          });
        });
        const reply = await bus.request(s, "ping", { timeoutMs: SOON, headers: { "x-tenant": "acme" } });
        expect(reply.json()).toEqual({ echo: "ping", tenant: "acme" });
        expect(reply.headers?.["x-answered"]).toBe("yes");
        await sub.unsubscribe();
      });

      it("is answered by one member of a queue group with an async handler", async () => {
        const s = subject("pool");
        let calls = 0;
        const handler = async (m: InboundMessage) => {
          calls++;
          await sleep(20);
          m.respond(`done:${m.text()}`);
        };
        const subs = [
          bus.subscribe(s, handler, { queue: "pool" }),
          bus.subscribe(s, handler, { queue: "pool" }),
        ];
        const reply = await bus.request(s, "job", { timeoutMs: SOON });
        expect(reply.text()).toBe("done:job");
        expect(calls).toBe(1);
        for (const sub of subs) await sub.unsubscribe();
      });

      it("fails fast with SONDE_BUS_NO_RESPONDERS when nobody subscribes", async () => {
        const started = Date.now();
        await expectCode(
          bus.request(subject("nobody"), "x", { timeoutMs: 2_000 }),
          "SONDE_BUS_NO_RESPONDERS",
        );
        expect(Date.now() - started).toBeLessThan(1_500);
      });

      it("fails with SONDE_BUS_TIMEOUT when the subscriber never answers", async () => {
        const s = subject("silent");
        const sub = bus.subscribe(s, () => {});
        const started = Date.now();
        await expectCode(bus.request(s, "x", { timeoutMs: 200 }), "SONDE_BUS_TIMEOUT");
        const elapsed = Date.now() - started;
        expect(elapsed).toBeGreaterThanOrEqual(150);
        expect(elapsed).toBeLessThan(2_000);
        await sub.unsubscribe();
      });

      it("refuses respond() on a message that was not a request", async () => {
        const s = subject("noreply");
        let outcome: unknown = "not called";
        const sub = bus.subscribe(s, (m) => {
          try {
            m.respond("x");
            outcome = undefined;
          } catch (err) {
            outcome = err;
          }
        });
        await bus.publish(s, "x");
        await waitFor(() => outcome !== "not called", SOON);
        expect(isSondeError(outcome, "SONDE_INTERNAL")).toBe(true);
        await sub.unsubscribe();
      });
    });

    describe("key-value", () => {
      it("bind: uses an existing bucket as it is, and takes no settings", async () => {
        await withBucket({ ttlMs: 60_000 }, async (kv) => {
          await kv.put("dev.a", "one");
          const bound = await bus.kv(kv.name, { bind: true });
          expect((await bound.get("dev.a"))?.text()).toBe("one");
          await bound.put("dev.b", "two");
          expect((await kv.get("dev.b"))?.text()).toBe("two");
          expect((await bound.keys("dev.>")).sort()).toEqual(["dev.a", "dev.b"]);
        });
        await expectCode(bus.kv(unique("kv"), { bind: true, ttlMs: 1_000 }), "SONDE_CONFIG_INVALID");
      });

      it("puts and gets with bucket-wide increasing revisions", async () => {
        await withBucket({}, async (kv) => {
          expect(await kv.get("dev.a")).toBeNull();
          const r1 = await kv.put("dev.a", "one");
          const r2 = await kv.put("dev.b", "two");
          const r3 = await kv.put("dev.a", JSON.stringify({ v: 3 }));
          expect(r2).toBeGreaterThan(r1);
          expect(r3).toBeGreaterThan(r2);
          const entry = await kv.get("dev.a");
          expect(entry?.key).toBe("dev.a");
          expect(entry?.revision).toBe(r3);
          expect(entry?.operation).toBe("PUT");
          expect(entry?.json()).toEqual({ v: 3 });
          expect(entry?.updatedAt).toBeInstanceOf(Date);
          expect((await kv.get("dev.b"))?.text()).toBe("two");
        });
      });

      it("create() refuses an existing key but accepts a deleted one", async () => {
        await withBucket({}, async (kv) => {
          const r1 = await kv.create("lock", "owner-1");
          expect(r1).toBeGreaterThan(0);
          await expectCode(kv.create("lock", "owner-2"), "SONDE_KV_REVISION_MISMATCH");
          expect((await kv.get("lock"))?.text()).toBe("owner-1");
          await kv.delete("lock");
          const r2 = await kv.create("lock", "owner-2");
          expect(r2).toBeGreaterThan(r1);
          expect((await kv.get("lock"))?.text()).toBe("owner-2");
        });
      });

      it("update() is a compare-and-set on the revision", async () => {
        await withBucket({}, async (kv) => {
          const r1 = await kv.put("counter", "1");
          const r2 = await kv.update("counter", "2", r1);
          expect(r2).toBeGreaterThan(r1);
          await expectCode(kv.update("counter", "stale", r1), "SONDE_KV_REVISION_MISMATCH");
          await expectCode(kv.update("missing", "x", r2), "SONDE_KV_REVISION_MISMATCH");
          await expectCode(kv.update("counter", "x", 0), "SONDE_KV_REVISION_MISMATCH");
          expect((await kv.get("counter"))?.text()).toBe("2");
        });
      });

      it("delete() makes get() return null and drops the key from keys()", async () => {
        await withBucket({}, async (kv) => {
          await kv.put("dev.a", "1");
          await kv.put("dev.b", "2");
          await kv.put("cfg.x", "3");
          await kv.delete("dev.b");
          await kv.delete("never.existed");
          expect(await kv.get("dev.b")).toBeNull();
          expect((await kv.keys()).sort()).toEqual(["cfg.x", "dev.a"]);
          expect(await kv.keys("dev.*")).toEqual(["dev.a"]);
          expect(await kv.keys("nothing.>")).toEqual([]);
        });
      });

      it("rejects invalid keys and bucket names", async () => {
        await withBucket({}, async (kv) => {
          await expectCode(kv.put("has space", "x"), "SONDE_BUS_INVALID_SUBJECT");
          await expectCode(kv.put("a.*", "x"), "SONDE_BUS_INVALID_SUBJECT");
          await expectCode(kv.get(".leading"), "SONDE_BUS_INVALID_SUBJECT");
        });
        await expectCode(bus.kv("bad.bucket"), "SONDE_BUS_INVALID_SUBJECT");
      });

      it("watch() delivers puts and deletes for matching keys, in order", async () => {
        await withBucket({}, async (kv) => {
          await kv.put("dev.old", "before the watch");
          const events: KvEntry[] = [];
          const watcher = await kv.watch((e) => void events.push(e), { key: "dev.>" });
          await kv.put("cfg.x", "not matching");
          await kv.put("dev.a", "1");
          await kv.delete("dev.a");
          await kv.put("dev.last", "end");
          await waitFor(() => events.some((e) => e.key === "dev.last"), SOON, "the last watch event");
          expect(events.map((e) => [e.key, e.operation])).toEqual([
            ["dev.a", "PUT"],
            ["dev.a", "DEL"],
            ["dev.last", "PUT"],
          ]);
          expect(events[0]?.text()).toBe("1");
          await watcher.stop();
        });
      });

      it("watch() with includeHistory first delivers the current entry of each key", async () => {
        await withBucket({}, async (kv) => {
          await kv.put("dev.a", "old");
          await kv.put("dev.a", "current");
          await kv.put("dev.b", "gone");
          await kv.delete("dev.b");
          const events: KvEntry[] = [];
          const watcher = await kv.watch((e) => void events.push(e), { key: "dev.*", includeHistory: true });
          await waitFor(() => events.length === 2, SOON, "the current entries");
          await kv.put("dev.c", "new");
          await waitFor(() => events.length === 3, SOON, "the update");
          expect(events.map((e) => [e.key, e.operation, e.text()])).toEqual([
            ["dev.a", "PUT", "current"],
            ["dev.b", "DEL", ""],
            ["dev.c", "PUT", "new"],
          ]);
          await watcher.stop();
        });
      });

      it("expires entries after the bucket TTL", { timeout: 15_000 }, async () => {
        await withBucket({ ttlMs: 1_000 }, async (kv) => {
          const putAt = Date.now();
          await kv.put("heartbeat", "alive");
          expect((await kv.get("heartbeat"))?.text()).toBe("alive");
          await waitFor(async () => (await kv.get("heartbeat")) === null, 6_000, "expiry", 100);
          expect(Date.now() - putAt).toBeGreaterThanOrEqual(900);
          expect(await kv.keys()).toEqual([]);
        });
      });
    });

    describe("streams", () => {
      it("publishes to a stream and delivers to a durable consumer in order", async () => {
        const st = await newStream();
        await bus.ensureStream({ name: st.name, subjects: [st.subject(">")] });
        const acks = [];
        for (const text of ["m1", "m2", "m3"]) acks.push(await bus.streamPublish(st.subject("a"), text));
        expect(acks.map((a) => a.stream)).toEqual([st.name, st.name, st.name]);
        expect(acks.map((a) => a.duplicate)).toEqual([false, false, false]);
        expect(acks[1]?.seq).toBe((acks[0]?.seq ?? 0) + 1);
        const got: StreamMessage[] = [];
        const consumer = await bus.consume(st.name, "worker", (m) => {
          got.push(m);
          m.ack();
        });
        await waitFor(() => got.length === 3, SOON);
        expect(got.map((m) => m.text())).toEqual(["m1", "m2", "m3"]);
        expect(got.map((m) => m.seq)).toEqual(acks.map((a) => a.seq));
        expect(got.map((m) => m.deliveryCount)).toEqual([1, 1, 1]);
        expect(got[0]?.subject).toBe(st.subject("a"));
        await consumer.stop();
      });

      it("redelivers an unacknowledged message after ackWait with deliveryCount 2", async () => {
        const st = await newStream();
        await bus.streamPublish(st.subject("a"), "x");
        const seen: { count: number; at: number }[] = [];
        const consumer = await bus.consume(
          st.name,
          "slow",
          (m) => {
            seen.push({ count: m.deliveryCount, at: Date.now() });
            if (m.deliveryCount >= 2) m.ack();
          },
          { ackWaitMs: 500 },
        );
        await waitFor(() => seen.length === 2, 4_000, "the redelivery");
        expect(seen.map((s) => s.count)).toEqual([1, 2]);
        expect((seen[1]?.at ?? 0) - (seen[0]?.at ?? 0)).toBeGreaterThanOrEqual(400);
        await consumer.stop();
      });

      it("redelivers a nak'd message at once, or after the nak delay", async () => {
        const st = await newStream();
        const seen: { text: string; count: number; at: number }[] = [];
        const consumer = await bus.consume(
          st.name,
          "naks",
          (m) => {
            seen.push({ text: m.text(), count: m.deliveryCount, at: Date.now() });
            if (m.deliveryCount > 1) m.ack();
            else if (m.text() === "later") m.nak(400);
            else m.nak();
          },
          { ackWaitMs: 20_000 },
        );
        await bus.streamPublish(st.subject("a"), "now");
        await waitFor(
          () => seen.filter((s) => s.text === "now").length === 2,
          SOON,
          "the immediate redelivery",
        );
        await bus.streamPublish(st.subject("a"), "later");
        await waitFor(
          () => seen.filter((s) => s.text === "later").length === 2,
          SOON,
          "the delayed redelivery",
        );
        const later = seen.filter((s) => s.text === "later");
        expect(later.map((s) => s.count)).toEqual([1, 2]);
        expect((later[1]?.at ?? 0) - (later[0]?.at ?? 0)).toBeGreaterThanOrEqual(300);
        await consumer.stop();
      });

      it("naks the message of a handler that throws, so it comes back", async () => {
        const st = await newStream();
        const counts: number[] = [];
        const consumer = await bus.consume(
          st.name,
          "throws",
          async (m) => {
            counts.push(m.deliveryCount);
            if (m.deliveryCount === 1) throw new Error("handler failure (expected by the test)");
            m.ack();
          },
          { ackWaitMs: 20_000 },
        );
        await bus.streamPublish(st.subject("a"), "x");
        await waitFor(() => counts.length === 2, SOON, "the redelivery");
        expect(counts).toEqual([1, 2]);
        await consumer.stop();
      });

      it("gives up on a message after maxDeliver deliveries", async () => {
        const st = await newStream();
        const counts = new Map<string, number>();
        const consumer = await bus.consume(
          st.name,
          "poison",
          (m) => {
            counts.set(m.text(), (counts.get(m.text()) ?? 0) + 1);
            if (m.text() === "poison") m.nak();
            else m.ack();
          },
          { ackWaitMs: 20_000, maxDeliver: 2 },
        );
        await bus.streamPublish(st.subject("a"), "poison");
        await waitFor(() => counts.get("poison") === 2, SOON, "two deliveries");
        await bus.streamPublish(st.subject("a"), "healthy");
        await waitFor(() => counts.get("healthy") === 1, SOON, "the next message");
        // A third delivery of a nak'd message would follow immediately; give it ample time to show up.
        await sleep(300);
        expect(counts.get("poison")).toBe(2);
        await consumer.stop();
      });

      it("reports a repeated msgId within the window as a duplicate", async () => {
        const st = await newStream();
        const first = await bus.streamPublish(st.subject("a"), "once", { msgId: "job-1" });
        const again = await bus.streamPublish(st.subject("a"), "once", { msgId: "job-1" });
        const other = await bus.streamPublish(st.subject("a"), "other", {
          msgId: "job-2",
          headers: { "x-k": "v" },
        });
        expect(first.duplicate).toBe(false);
        expect(again).toEqual({ stream: st.name, seq: first.seq, duplicate: true });
        expect(other.duplicate).toBe(false);
        expect(other.seq).toBe(first.seq + 1);
        const got: StreamMessage[] = [];
        const consumer = await bus.consume(st.name, "dedup", (m) => {
          got.push(m);
          m.ack();
        });
        await waitFor(() => got.length === 2, SOON);
        expect(got.map((m) => m.text())).toEqual(["once", "other"]);
        expect(got[0]?.headers?.["Nats-Msg-Id"]).toBe("job-1");
        expect(got[1]?.headers?.["x-k"]).toBe("v");
        await consumer.stop();
      });

      it("resumes a durable where it left off after stop()", async () => {
        const st = await newStream();
        for (const t of ["m1", "m2", "m3"]) await bus.streamPublish(st.subject("a"), t);
        const firstRun: number[] = [];
        const c1 = await bus.consume(
          st.name,
          "resume",
          (m) => {
            firstRun.push(m.seq);
            m.ack();
          },
          { ackWaitMs: 20_000 },
        );
        await waitFor(() => firstRun.length === 3, SOON);
        await c1.stop();
        await bus.streamPublish(st.subject("a"), "m4");
        await bus.streamPublish(st.subject("a"), "m5");
        const secondRun: StreamMessage[] = [];
        const c2 = await bus.consume(
          st.name,
          "resume",
          (m) => {
            secondRun.push(m);
            m.ack();
          },
          { ackWaitMs: 20_000 },
        );
        // Acknowledged messages would be redelivered first (lowest sequence), so the first two tell.
        await waitFor(() => secondRun.length === 2, SOON, "the new messages");
        expect(secondRun.map((m) => m.text())).toEqual(["m4", "m5"]);
        expect(secondRun.map((m) => m.deliveryCount)).toEqual([1, 1]);
        await c2.stop();
      });

      it("splits the work of one durable between two consume() calls", async () => {
        const st = await newStream();
        const a: number[] = [];
        const b: number[] = [];
        const worker = (into: number[]) => async (m: StreamMessage) => {
          into.push(m.seq);
          await sleep(20);
          m.ack();
        };
        const c1 = await bus.consume(st.name, "shared", worker(a));
        const c2 = await bus.consume(st.name, "shared", worker(b));
        for (let i = 0; i < 10; i++) await bus.streamPublish(st.subject("a"), String(i));
        await waitFor(() => a.length + b.length >= 10, 5_000, "all ten messages");
        expect(a.length + b.length).toBe(10);
        expect(new Set([...a, ...b]).size).toBe(10);
        expect(a.length).toBeGreaterThan(0);
        expect(b.length).toBeGreaterThan(0);
        await Promise.all([c1.stop(), c2.stop()]);
      });

      it("honours a consumer filter subject", async () => {
        const st = await newStream();
        const got: string[] = [];
        await bus.streamPublish(st.subject("skip"), "skipped");
        await bus.streamPublish(st.subject("keep"), "kept");
        const c = await bus.consume(
          st.name,
          "filtered",
          (m) => {
            got.push(m.text());
            m.ack();
          },
          { filterSubject: st.subject("keep") },
        );
        await bus.streamPublish(st.subject("skip"), "skipped");
        await bus.streamPublish(st.subject("keep"), "last");
        await waitFor(() => got.includes("last"), SOON);
        expect(got).toEqual(["kept", "last"]);
        await c.stop();
      });

      it("starts a new durable after the stream's last message with deliverNew, and resumes it later", async () => {
        const st = await newStream();
        await bus.streamPublish(st.subject("a"), "old");
        const got: string[] = [];
        const handler = (m: StreamMessage) => {
          got.push(m.text());
          m.ack();
        };
        const c1 = await bus.consume(st.name, "fresh", handler, { deliverNew: true });
        await bus.streamPublish(st.subject("a"), "new");
        await waitFor(() => got.includes("new"), SOON);
        await c1.stop();
        // Existing durable: it keeps its position (nothing is skipped while it was stopped).
        await bus.streamPublish(st.subject("a"), "while stopped");
        const c2 = await bus.consume(st.name, "fresh", handler, { deliverNew: true });
        await waitFor(() => got.includes("while stopped"), SOON);
        expect(got).toEqual(["new", "while stopped"]);
        await c2.stop();
      });

      it("delivers in order, one handler at a time, with a prefetch buffer", async () => {
        const st = await newStream();
        for (let i = 0; i < 20; i++) await bus.streamPublish(st.subject("a"), String(i));
        const got: string[] = [];
        let running = 0;
        let overlapped = false;
        const c = await bus.consume(
          st.name,
          "prefetching",
          async (m) => {
            running++;
            if (running > 1) overlapped = true;
            await sleep(2);
            got.push(m.text());
            running--;
            m.ack();
          },
          { prefetch: 8 },
        );
        await waitFor(() => got.length === 20, SOON);
        expect(got).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
        expect(overlapped).toBe(false);
        await c.stop();
        await expect(bus.consume(st.name, "bad", () => {}, { prefetch: 0 })).rejects.toMatchObject({
          code: "SONDE_CONFIG_INVALID",
        });
      });

      it("applies maxMsgs and maxAgeMs limits", { timeout: 15_000 }, async () => {
        const capped = await newStream({ maxMsgs: 2 });
        for (const t of ["1", "2", "3"]) await bus.streamPublish(capped.subject("a"), t);
        const kept: string[] = [];
        const c1 = await bus.consume(capped.name, "late", (m) => {
          kept.push(m.text());
          m.ack();
        });
        await waitFor(() => kept.length === 2, SOON);
        expect(kept).toEqual(["2", "3"]);
        await c1.stop();

        const aging = await newStream({ maxAgeMs: 1_000 });
        await bus.streamPublish(aging.subject("a"), "old");
        // Expiry is only observable by its absence, so this one wait is fixed: max age plus slack.
        await sleep(1_800);
        await bus.streamPublish(aging.subject("a"), "fresh");
        const fresh: string[] = [];
        const c2 = await bus.consume(aging.name, "late", (m) => {
          fresh.push(m.text());
          m.ack();
        });
        await waitFor(() => fresh.length >= 1, SOON);
        expect(fresh[0]).toBe("fresh");
        await c2.stop();
      });

      it("keeps ensureStream() idempotent and rejects unknown streams and subjects", async () => {
        const st = await newStream();
        await bus.ensureStream({ name: st.name, subjects: [st.subject(">")], maxMsgs: 100 });
        await bus.ensureStream({ name: st.name, subjects: [st.subject(">")], maxMsgs: 100 });
        await expectCode(bus.streamPublish(subject("no", "stream", runId), "x"), "SONDE_BUS_NO_RESPONDERS");
        await expectCode(
          bus.consume(`MISSING_${runId}`, "d", () => {}),
          "SONDE_NOT_FOUND",
        );
        await expectCode(
          bus.ensureStream({ name: "bad.name", subjects: [st.subject("x")] }),
          "SONDE_BUS_INVALID_SUBJECT",
        );
      });
    });

    describe("lifecycle", () => {
      it("answers ping() while open", async () => {
        await expect(bus.ping()).resolves.toBeUndefined();
      });

      it("fails every operation with SONDE_BUS_CLOSED after close()", async () => {
        const other = await factory();
        const bucket = unique("kv");
        const kv = await other.kv(bucket);
        const st = await newStream({}, other);
        await other.close();
        await other.close();
        await expectCode(other.publish(subject("x"), "x"), "SONDE_BUS_CLOSED");
        await expectCode(() => other.subscribe(subject("x"), () => {}), "SONDE_BUS_CLOSED");
        await expectCode(other.request(subject("x"), "x", { timeoutMs: 100 }), "SONDE_BUS_CLOSED");
        await expectCode(other.kv(unique("kv")), "SONDE_BUS_CLOSED");
        await expectCode(kv.get("a"), "SONDE_BUS_CLOSED");
        await expectCode(kv.put("a", "x"), "SONDE_BUS_CLOSED");
        await expectCode(
          other.ensureStream({ name: st.name, subjects: [st.subject(">")] }),
          "SONDE_BUS_CLOSED",
        );
        await expectCode(other.streamPublish(st.subject("a"), "x"), "SONDE_BUS_CLOSED");
        await expectCode(
          other.consume(st.name, "d", () => {}),
          "SONDE_BUS_CLOSED",
        );
        await expectCode(other.ping(), "SONDE_BUS_CLOSED");
        // Server-side leftovers of the closed bus (no-ops in memory, where they died with it).
        await (await bus.kv(bucket)).destroy();
      });

      it("close() waits for a running subscription handler", async () => {
        const other = await factory();
        const s = subject("inflight");
        let started = false;
        let finished = false;
        other.subscribe(s, async () => {
          started = true;
          await sleep(300);
          finished = true;
        });
        await other.publish(s, "x");
        await waitFor(() => started, SOON);
        await other.close();
        expect(finished).toBe(true);
      });

      it("close() waits for a running stream handler, which may still ack", async () => {
        const other = await factory();
        const st = await newStream({}, other);
        let started = false;
        let finished = false;
        let ackError: unknown;
        await other.consume(st.name, "closing", async (m) => {
          started = true;
          await sleep(300);
          try {
            m.ack();
          } catch (err) {
            ackError = err;
          }
          finished = true;
        });
        await other.streamPublish(st.subject("a"), "x");
        await waitFor(() => started, SOON);
        await other.close();
        expect(finished).toBe(true);
        expect(ackError).toBeUndefined();
      });
    });
  });
}
