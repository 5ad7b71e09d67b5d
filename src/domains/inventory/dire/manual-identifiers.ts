import { sql } from "drizzle-orm";
import type { Tx } from "../../../kernel/tenancy/transaction.js";
import { DEFAULT_PARTITION, type Identifier, macIdentifier } from "./identifiers.js";

/**
 * Registers the identifiers of a device written by hand (agent id, MAC), so that the next sync of
 * the same device finds it instead of creating a second one. An identifier another device already
 * holds stays where it is: an operator's typo must not move a real device's identity.
 */
export async function registerManualIdentifiers(
  tx: Tx,
  tenantId: string | null,
  record: Readonly<Record<string, unknown>>,
): Promise<void> {
  if (tenantId === null) return;
  const ids: Identifier[] = [];
  if (typeof record.agent_id === "string")
    ids.push({ type: "agent_id", value: record.agent_id, confidence: "strong" });
  if (typeof record.mac === "string") ids.push(macIdentifier(record.mac));
  const partition = typeof record.partition === "string" ? record.partition : DEFAULT_PARTITION;
  for (const id of ids) {
    await tx.execute(sql`
      insert into device_identifiers (tenant_id, device_id, type, value, partition, confidence, source)
      values (${tenantId}, ${String(record.uid)}, ${id.type}, ${id.value}, ${partition}, ${id.confidence}, 'manual')
      on conflict (tenant_id, type, value, partition) do nothing`);
  }
}
