import type { Logger } from "pino";
import type { Filter } from "../../../kernel/filter.js";
import type { Kernel } from "../../../kernel/kernel.js";
import { allTenants } from "../../../kernel/triggers/scan.js";
import type { Orm } from "../../../platform/db/types.js";
import type { ComponentKind } from "../../../platform/fabric/contract.js";
import { REGISTRY_ACTOR, type RegistryApplier } from "./apply.js";
import type { Step } from "./decide.js";

/** Rows one sweep takes per tenant and rule; the rest wait for the next sweep. */
const SWEEP_PAGE = 500;

interface SweepRule {
  readonly kind: ComponentKind;
  readonly step: Step;
  /** Heartbeat periods of silence after which the step applies. */
  readonly periods: number;
  readonly where: Filter;
}

/** Harsher rules first: a component silent for 3 periods goes offline without stopping at degraded. */
const RULES: readonly SweepRule[] = [
  {
    kind: "poller",
    periods: 3,
    step: { action: "go_offline", reason: "no heartbeat for 3 periods" },
    where: {
      and: [
        { field: "status", op: "in", value: ["healthy", "recovering", "degraded", "draining"] },
        { field: "intent", op: "eq", value: "active" },
      ],
    },
  },
  {
    kind: "poller",
    periods: 2,
    step: { action: "degrade", reason: "no heartbeat for 2 periods" },
    where: {
      and: [
        { field: "status", op: "in", value: ["healthy", "recovering"] },
        { field: "intent", op: "eq", value: "active" },
      ],
    },
  },
  {
    kind: "agent",
    periods: 3,
    step: { action: "mark_unavailable", reason: "no heartbeat for 3 periods" },
    where: { field: "status", op: "in", value: ["connecting", "connected", "degraded", "disconnected"] },
  },
  {
    kind: "agent",
    periods: 2,
    step: { action: "degrade", reason: "no heartbeat for 2 periods" },
    where: { field: "status", op: "in", value: ["connecting", "connected"] },
  },
];

/**
 * The missed-heartbeat sweep: pollers and agents whose last heartbeat (on core's clock) is older than
 * 2 or 3 periods move to degraded or offline/unavailable. Every core may sweep at once: each step
 * re-checks its condition on the locked row (a guard) and starts from fixed states, so a second core
 * finds nothing left to do. Components of suspended tenants are swept too (they are not tracked).
 */
export async function sweepMissedHeartbeats(deps: {
  readonly kernel: Kernel;
  readonly orm: Orm;
  readonly applier: RegistryApplier;
  readonly heartbeatMs: number;
  readonly logger: Logger;
}): Promise<number> {
  let moved = 0;
  for await (const tenant of allTenants(deps.orm)) {
    const ctx = { actor: REGISTRY_ACTOR, tenantId: tenant.id };
    for (const rule of RULES) {
      const silent: Filter = {
        field: "last_seen_at",
        op: "lt",
        value: new Date(Date.now() - rule.periods * deps.heartbeatMs),
      };
      const { records } = await deps.kernel.list(deps.kernel.resource(rule.kind), ctx, {
        filter: { and: [rule.where, silent] },
        page: { size: SWEEP_PAGE },
      });
      for (const record of records) {
        if (
          await deps.applier.step(ctx, rule.kind, String(record.id), rule.step, { and: [rule.where, silent] })
        )
          moved += 1;
      }
    }
  }
  if (moved > 0) deps.logger.info({ moved }, "missed-heartbeat sweep moved components");
  return moved;
}
