import { type Actor, actorId } from "./actor.js";
import { auditEvents } from "./kernel.schema.js";
import type { Tx } from "./tenancy/transaction.js";

/** `reveal`: the system actor read a sensitive, encrypted attribute in the clear (Kernel.revealSensitive). */
export type AuditKind = "forbidden" | "transition" | "bypass" | "system_write" | "reveal";

export interface AuditEntry {
  readonly tenantId: string | null;
  readonly actor: Actor;
  readonly kind: AuditKind;
  readonly resource: string;
  readonly action: string;
  readonly recordId?: string | undefined;
  readonly detail?: Record<string, unknown>;
}

/** Appends to the audit log inside the caller's transaction (so it commits or rolls back with it). */
export async function writeAudit(tx: Tx, e: AuditEntry): Promise<void> {
  await tx.insert(auditEvents).values({
    tenant_id: e.tenantId,
    actor_kind: e.actor.kind,
    actor_id: actorId(e.actor),
    kind: e.kind,
    resource: e.resource,
    action: e.action,
    record_id: e.recordId ?? null,
    detail: { ...(e.detail ?? {}), ...(e.actor.kind === "system" ? { reason: e.actor.reason } : {}) },
  });
}
