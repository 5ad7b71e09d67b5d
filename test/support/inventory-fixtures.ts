/**
 * Inventory state that only DIRE writes (alias states, merges), made directly in a tenant's scope
 * so that suites can test the resources that read and undo it; and devices made by the system actor
 * through the kernel, as a sync would.
 */
import { type SQL, sql } from "drizzle-orm";
import { systemActor } from "../../src/kernel/actor.js";
import type { Kernel } from "../../src/kernel/kernel.js";
import { inScope, queryRows } from "../../src/kernel/tenancy/transaction.js";
import type { Orm } from "../../src/platform/db/types.js";

const system = systemActor("inventory-fixtures");

export type Row = Record<string, unknown>;

/** Raw SQL in one tenant's row-level-security scope (as the application role). */
export function inTenant<R extends Row = Row>(orm: Orm, tenantId: string, query: SQL): Promise<R[]> {
  return inScope(orm, { tenantId, bypass: false }, (tx) => queryRows<R>(tx, query));
}

/** A device made by the system actor through the kernel's create action; returns its canonical id. */
export async function createDevice(kernel: Kernel, tenantId: string, attributes: Row): Promise<string> {
  const rec = await kernel.create(kernel.resource("device"), { actor: system, tenantId }, attributes);
  return String(rec.uid);
}

export async function insertAliasState(
  orm: Orm,
  tenantId: string,
  deviceId: string,
  alias: { type: "ip" | "hostname"; value: string; state?: string },
): Promise<string> {
  const [row] = await inTenant<{ id: string }>(
    orm,
    tenantId,
    sql`insert into device_alias_states (tenant_id, device_id, alias_type, alias_value, state)
        values (${tenantId}, ${deviceId}, ${alias.type}, ${alias.value}, ${alias.state ?? "detected"})
        returning id`,
  );
  if (row === undefined) throw new Error("alias state not inserted");
  return row.id;
}

export interface MovedIdentifier {
  readonly type: string;
  readonly value: string;
  readonly partition: string;
}

/**
 * Merges `from` into `to` as DIRE records it: the snapshot of `from` (its columns, dates as ISO
 * strings), the listed identifiers moved to `to`, `from` marked merged (and, as a merge may, stripped
 * of its IP, deleted and renamed), and a merge_audits row with outcome `merged`. Returns the row's id.
 */
export async function recordMerge(
  orm: Orm,
  tenantId: string,
  from: string,
  to: string,
  identifiers: readonly MovedIdentifier[],
): Promise<string> {
  return inScope(orm, { tenantId, bypass: false }, async (tx) => {
    // to_jsonb writes dates as ISO 8601 strings, under the table's column names.
    const [before] = await queryRows<{ snapshot: Row }>(
      tx,
      sql`select to_jsonb(d) - 'tenant_id' as snapshot from devices d where uid = ${from}`,
    );
    if (before === undefined) throw new Error(`no device ${from}`);
    const snapshot = before.snapshot;
    for (const id of identifiers) {
      await tx.execute(sql`update device_identifiers set device_id = ${to}
        where device_id = ${from} and type = ${id.type} and value = ${id.value} and partition = ${id.partition}`);
    }
    await tx.execute(sql`update devices
      set merged_into = ${to}, ip = null, hostname = null, name = 'merged away', deleted_at = now()
      where uid = ${from}`);
    const [audit] = await queryRows<{ id: string }>(
      tx,
      sql`insert into merge_audits (tenant_id, from_device_id, to_device_id, outcome, reason, identifiers, snapshot, actor)
          values (${tenantId}, ${from}, ${to}, 'merged', 'strong identifier match',
                  ${JSON.stringify(identifiers)}::jsonb, ${JSON.stringify(snapshot)}::jsonb, 'system:dire')
          returning id`,
    );
    if (audit === undefined) throw new Error("merge audit not inserted");
    return audit.id;
  });
}

/** A merge DIRE refused (MAC-only evidence): nothing moved, nothing to undo. */
export async function recordBlockedMerge(
  orm: Orm,
  tenantId: string,
  from: string,
  to: string,
): Promise<string> {
  const [row] = await inTenant<{ id: string }>(
    orm,
    tenantId,
    sql`insert into merge_audits (tenant_id, from_device_id, to_device_id, outcome, reason, actor)
        values (${tenantId}, ${from}, ${to}, 'blocked', 'mac only', 'system:dire')
        returning id`,
  );
  if (row === undefined) throw new Error("blocked merge not inserted");
  return row.id;
}
