import type { Logger } from "pino";
import { systemActor } from "../../../kernel/actor.js";
import type { Filter } from "../../../kernel/filter.js";
import type { Kernel, Rec } from "../../../kernel/kernel.js";
import type { ActionContext } from "../../../kernel/pipeline/authorize.js";
import { isSondeError } from "../../../lib/errors.js";
import type { ComponentKind, RegistryEntry } from "../../../platform/fabric/contract.js";
import type { AgentState, PollerIntent, PollerState } from "../infrastructure.schema.js";
import {
  agentGoneStep,
  agentHeartbeatStep,
  pollerGoneStep,
  pollerHeartbeatStep,
  type Step,
} from "./decide.js";

/** The registry watcher acts as this system actor (audited as such). */
export const REGISTRY_ACTOR = systemActor("registry-watcher");

/**
 * Refusals that mean another core (or an operator) got there first: the record moved on, was
 * removed, or already took this heartbeat. The watcher's writes are idempotent by ignoring them.
 */
function lostRace(err: unknown): boolean {
  return (
    isSondeError(err, "SONDE_INVALID_TRANSITION") ||
    isSondeError(err, "SONDE_GUARD_FAILED") ||
    isSondeError(err, "SONDE_NOT_FOUND")
  );
}

function isConflict(err: unknown): boolean {
  return isSondeError(err, "SONDE_CONFLICT") || isSondeError(err, "SONDE_DB_UNIQUE_VIOLATION");
}

/** Applies registry entries and removals to one tenant's pollers and agents, through the kernel. */
export class RegistryApplier {
  constructor(
    private readonly kernel: Kernel,
    private readonly logger: Logger,
  ) {}

  async find(kind: ComponentKind, tenantId: string, componentId: string): Promise<Rec | undefined> {
    const { records } = await this.kernel.list(
      this.kernel.resource(kind),
      { actor: REGISTRY_ACTOR, tenantId },
      { filter: { field: "component_id", op: "eq", value: componentId }, page: { size: 1 } },
    );
    return records[0];
  }

  /** A heartbeat: register the component or refresh it, then take the lifecycle step it implies. */
  async heartbeat(tenantId: string, entry: RegistryEntry): Promise<void> {
    const ctx: ActionContext = { actor: REGISTRY_ACTOR, tenantId };
    const resource = this.kernel.resource(entry.kind);
    const at = new Date(entry.heartbeatAt);
    const reported: Rec = {
      partition: entry.partition,
      capabilities: entry.capabilities,
      version: entry.version,
      host: entry.host,
      last_heartbeat_at: at,
      ...(entry.kind === "agent" ? { address: entry.address ?? null } : {}),
    };
    let record = await this.find(entry.kind, tenantId, entry.id);
    let fresh = false;
    if (record === undefined) {
      try {
        record = await this.kernel.runAction(resource, "register", ctx, {
          input: { ...reported, component_id: entry.id },
        });
        fresh = true;
        this.logger.info(
          { kind: entry.kind, id: entry.id, partition: entry.partition },
          "component registered",
        );
      } catch (err) {
        // Another core registered it a moment ago: carry on as a heartbeat on its record.
        if (!isConflict(err)) throw err;
        record = await this.find(entry.kind, tenantId, entry.id);
      }
    }
    if (record === undefined) return;
    if (!fresh) fresh = await this.refresh(ctx, entry.kind, String(record.id), reported, at);
    const step =
      entry.kind === "poller"
        ? pollerHeartbeatStep(record.status as PollerState, record.intent as PollerIntent, entry.mode, fresh)
        : agentHeartbeatStep(record.status as AgentState);
    if (step !== undefined) await this.step(ctx, entry.kind, String(record.id), step);
  }

  /** The key is gone (deleted, or expired where the bus reports expiry): offline / unavailable. */
  async removed(
    tenantId: string,
    kind: ComponentKind,
    partition: string,
    componentId: string,
  ): Promise<void> {
    const ctx: ActionContext = { actor: REGISTRY_ACTOR, tenantId };
    const record = await this.find(kind, tenantId, componentId);
    // A component that moved partitions leaves its old key behind: that key's removal is not news.
    if (record === undefined || record.partition !== partition) return;
    const step =
      kind === "poller"
        ? pollerGoneStep(record.status as PollerState, record.intent as PollerIntent)
        : agentGoneStep(record.status as AgentState);
    if (step !== undefined) await this.step(ctx, kind, String(record.id), step);
  }

  /**
   * Runs a lifecycle step; `guard` re-checks the condition that chose it on the locked row. Returns
   * false when another core (or an operator) changed the record first.
   */
  async step(
    ctx: ActionContext,
    kind: ComponentKind,
    id: string,
    step: Step,
    guard?: Filter,
  ): Promise<boolean> {
    try {
      await this.kernel.runAction(this.kernel.resource(kind), step.action, ctx, {
        id,
        input: { status_reason: step.reason },
        ...(guard !== undefined ? { guard } : {}),
      });
      return true;
    } catch (err) {
      if (lostRace(err)) return false;
      throw err;
    }
  }

  /** Writes the heartbeat unless one as new is already stored; true when this one was new. */
  private async refresh(
    ctx: ActionContext,
    kind: ComponentKind,
    id: string,
    reported: Rec,
    at: Date,
  ): Promise<boolean> {
    try {
      await this.kernel.runAction(this.kernel.resource(kind), "heartbeat", ctx, {
        id,
        input: reported,
        guard: {
          or: [
            { field: "last_heartbeat_at", op: "is_null", value: true },
            { field: "last_heartbeat_at", op: "lt", value: at },
          ],
        },
      });
      return true;
    } catch (err) {
      if (lostRace(err)) return false;
      throw err;
    }
  }
}
