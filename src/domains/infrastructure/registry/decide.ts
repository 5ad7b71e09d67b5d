import type { AgentState, PollerIntent, PollerState } from "../infrastructure.schema.js";

/**
 * What a heartbeat does to a component's state, as data (the watcher only runs the answer).
 * `fresh`: this heartbeat is newer than the last one applied. A step that needs a fresh heartbeat
 * does not run twice when several cores see the same one: recovering → healthy takes a second one.
 */
export interface Step {
  readonly action: string;
  readonly reason: string;
}

export function pollerHeartbeatStep(
  status: PollerState,
  intent: PollerIntent,
  mode: "active" | "draining",
  fresh: boolean,
): Step | undefined {
  // An operator's maintenance or drain is theirs to end: heartbeats do not override it.
  if (intent !== "active") return undefined;
  if (mode === "draining") {
    return status === "draining" ? undefined : { action: "mark_draining", reason: "the poller is draining" };
  }
  switch (status) {
    case "inactive":
      return { action: "activate", reason: "first heartbeat" };
    case "offline":
    case "degraded":
    case "draining":
      return fresh ? { action: "recover", reason: `heartbeat while ${status}` } : undefined;
    case "recovering":
      return fresh ? { action: "heal", reason: "heartbeats resumed" } : undefined;
    case "healthy":
    case "maintenance":
      return undefined;
  }
}

export function agentHeartbeatStep(status: AgentState): Step | undefined {
  return status === "connected" ? undefined : { action: "connect", reason: `heartbeat while ${status}` };
}

/** A deleted registry key: the component said goodbye or its entry expired. */
export function pollerGoneStep(status: PollerState, intent: PollerIntent): Step | undefined {
  if (intent !== "active") return undefined;
  const running: readonly PollerState[] = ["healthy", "recovering", "degraded", "draining"];
  return running.includes(status) ? { action: "go_offline", reason: "registry entry removed" } : undefined;
}

export function agentGoneStep(status: AgentState): Step | undefined {
  return status === "unavailable"
    ? undefined
    : { action: "mark_unavailable", reason: "registry entry removed" };
}
