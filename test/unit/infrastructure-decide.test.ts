import { describe, expect, it } from "vitest";
import {
  agentGoneStep,
  agentHeartbeatStep,
  pollerGoneStep,
  pollerHeartbeatStep,
} from "../../src/domains/infrastructure/registry/decide.js";
import { AGENT_STATES, POLLER_STATES } from "../../src/domains/infrastructure/infrastructure.schema.js";

describe("what a heartbeat does to a poller", () => {
  const step = (...args: Parameters<typeof pollerHeartbeatStep>) => pollerHeartbeatStep(...args)?.action;

  it("activates a new poller and brings a lapsed one back through recovering", () => {
    expect(step("inactive", "active", "active", true)).toBe("activate");
    expect(step("offline", "active", "active", true)).toBe("recover");
    expect(step("degraded", "active", "active", true)).toBe("recover");
    expect(step("recovering", "active", "active", true)).toBe("heal");
    expect(step("healthy", "active", "active", true)).toBeUndefined();
  });

  it("does nothing more for a heartbeat already applied (another core's)", () => {
    expect(step("offline", "active", "active", false)).toBeUndefined();
    expect(step("recovering", "active", "active", false)).toBeUndefined();
  });

  it("reflects the poller's own draining and its end", () => {
    expect(step("healthy", "active", "draining", true)).toBe("mark_draining");
    expect(step("draining", "active", "draining", true)).toBeUndefined();
    expect(step("draining", "active", "active", true)).toBe("recover");
  });

  it("never overrides an operator's intent", () => {
    for (const status of POLLER_STATES) {
      for (const mode of ["active", "draining"] as const) {
        expect(step(status, "maintenance", mode, true)).toBeUndefined();
        expect(step(status, "draining", mode, true)).toBeUndefined();
      }
    }
    expect(pollerGoneStep("maintenance", "maintenance")).toBeUndefined();
    expect(pollerGoneStep("draining", "draining")).toBeUndefined();
  });

  it("takes a running poller offline when its key is gone, not one already down", () => {
    expect(pollerGoneStep("healthy", "active")?.action).toBe("go_offline");
    expect(pollerGoneStep("draining", "active")?.action).toBe("go_offline");
    expect(pollerGoneStep("offline", "active")).toBeUndefined();
    expect(pollerGoneStep("inactive", "active")).toBeUndefined();
  });
});

describe("what a heartbeat does to an agent", () => {
  it("connects it from every state but connected, and a removed key makes it unavailable", () => {
    for (const status of AGENT_STATES) {
      expect(agentHeartbeatStep(status)?.action).toBe(status === "connected" ? undefined : "connect");
      expect(agentGoneStep(status)?.action).toBe(status === "unavailable" ? undefined : "mark_unavailable");
    }
  });
});
