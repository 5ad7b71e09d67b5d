import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { isSondeError } from "../../src/lib/errors.js";
import { createBus } from "../../src/platform/bus/index.js";
import {
  patternsOverlap,
  subjectFor,
  subjectMatches,
  subjectPattern,
} from "../../src/platform/bus/subjects.js";
import { busContract } from "../contract/bus.contract.js";
import { waitFor } from "../support/wait.js";

const logger = pino({ level: "silent" });

busContract("memory", () => createBus({ name: "test-memory", logger }));

describe("createBus without a NATS URL", () => {
  it("returns the in-process bus", async () => {
    const bus = await createBus({ name: "t", logger, natsUrl: " " });
    expect(bus.kind).toBe("memory");
    await bus.close();
  });
});

describe("memory bus shutdown", () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

  it("clears redelivery and request timers and fails pending requests on close()", async () => {
    const before = timers();
    const bus = await createBus({ name: "t", logger });
    await bus.ensureStream({ name: "TIMERS", subjects: ["sonde.t.timers.>"] });
    let delivered = 0;
    await bus.consume("TIMERS", "never-acks", () => void delivered++, { ackWaitMs: 60_000 });
    await bus.streamPublish("sonde.t.timers.a", "x");
    await waitFor(() => delivered === 1, 2_000);
    bus.subscribe("sonde.t.silent", () => {});
    const pending = bus.request("sonde.t.silent", "x", { timeoutMs: 60_000 });
    const outcome = pending.then(
      () => "resolved",
      (err: unknown) => err,
    );
    expect(timers()).toBeGreaterThan(before);
    await bus.close();
    expect(isSondeError(await outcome, "SONDE_BUS_CLOSED")).toBe(true);
    expect(timers()).toBeLessThanOrEqual(before);
  });
});

describe("subject helpers", () => {
  it("builds tenant-scoped subjects and patterns", () => {
    expect(subjectFor("acme-1", "dispatch", "p1")).toBe("sonde.acme-1.dispatch.p1");
    expect(subjectFor("acme_2", "results", "sr:4f2a", "chunk-3")).toBe(
      "sonde.acme_2.results.sr:4f2a.chunk-3",
    );
    expect(subjectPattern("*", "results", ">")).toBe("sonde.*.results.>");
    expect(subjectPattern("acme", "dispatch", "*")).toBe("sonde.acme.dispatch.*");
    expect(() => subjectPattern("acme", "dispatch", ">", "x")).toThrow();
    expect(() => subjectFor("", "dispatch")).toThrow();
    expect(() => subjectFor("acme", "Dispatch")).toThrow();
    expect(() => subjectFor("acme", "dispatch", "")).toThrow();
    expect(() => subjectFor("acme", "dispatch", "a b")).toThrow();
    expect(() => subjectFor("acme", "dispatch", ">")).toThrow();
  });

  it("matches wildcards like NATS", () => {
    expect(subjectMatches("a.b", "a.b")).toBe(true);
    expect(subjectMatches("a.b", "a.b.c")).toBe(false);
    expect(subjectMatches("a.*", "a.b")).toBe(true);
    expect(subjectMatches("a.*", "a")).toBe(false);
    expect(subjectMatches("a.*", "a.b.c")).toBe(false);
    expect(subjectMatches("a.*.c", "a.b.c")).toBe(true);
    expect(subjectMatches("a.>", "a")).toBe(false);
    expect(subjectMatches("a.>", "a.b")).toBe(true);
    expect(subjectMatches("a.>", "a.b.c")).toBe(true);
    expect(subjectMatches(">", "a")).toBe(true);
    expect(subjectMatches("*.b.>", "x.b.y")).toBe(true);
  });

  it("detects overlapping stream subjects", () => {
    expect(patternsOverlap("a.>", "a.b")).toBe(true);
    expect(patternsOverlap("a.*", "a.b")).toBe(true);
    expect(patternsOverlap("a.*", "*.b")).toBe(true);
    expect(patternsOverlap("a.>", "a")).toBe(false);
    expect(patternsOverlap("a.*", "a.b.c")).toBe(false);
    expect(patternsOverlap("a.b", "a.c")).toBe(false);
    expect(patternsOverlap("a.*.c", "a.>")).toBe(true);
  });
});
