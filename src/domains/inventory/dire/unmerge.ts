import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { queryRows, type Tx } from "../../../kernel/tenancy/transaction.js";
import { SondeError } from "../../../lib/errors.js";
import { DEVICE_IDENTIFIER_TYPES, devices, IDENTITY_STATES, RISK_LEVELS } from "../inventory.schema.js";

/**
 * Unmerge: undoes one recorded merge (a merge_audits row with outcome `merged`), inside the unmerge
 * action's transaction and under the tenant's row-level security. Every statement also names the
 * tenant: RLS is the second lock, not the only one.
 *
 * 1. The merged-away device ("from") is locked; it must still exist (a destroyed device has nothing
 *    to come back to, and its identifiers would have no row to point at).
 * 2. Each identifier the merge moved goes back to it, but only while the survivor ("to") still holds
 *    it: one that a later sync moved elsewhere now belongs there.
 * 3. The device's attributes come back from the snapshot taken before the merge, and it is no longer
 *    merged. Its IP comes back only if no other active device of its partition holds that IP now (one
 *    active device per IP per partition, the `devices_active_ip` index); otherwise it has none.
 *
 * The survivor keeps what the merge gave it (attributes are not tracked per origin): a later sync of
 * either device corrects them.
 */

const movedIdentifiers = z.array(
  z.object({ type: z.enum(DEVICE_IDENTIFIER_TYPES), value: z.string(), partition: z.string() }),
);

const text = z.string().nullable();
const when = z.coerce.date();

/**
 * The snapshot's keys are the devices table's column names; these are the ones unmerge restores.
 * Keys left out on purpose: tenant_id, uid and partition (the device's identity, unchanged by a
 * merge), merged_into (cleared), created_at and updated_at (kept and touched).
 */
const snapshotSchema = z
  .object({
    type: text,
    type_id: z.number().int(),
    name: text,
    hostname: text,
    ip: text,
    mac: text,
    vendor_name: text,
    model: text,
    os: text,
    domain: text,
    zone: text,
    subnet: text,
    region: text,
    first_seen_time: when,
    last_seen_time: when,
    risk_level: z.enum(RISK_LEVELS).nullable(),
    is_managed: z.boolean(),
    is_available: z.boolean(),
    discovery_sources: z.array(z.string()),
    agent_id: text,
    poller_id: text,
    tags: z.array(z.string()),
    metadata: z.record(z.string(), z.unknown()),
    group_id: z.uuid().nullable(),
    identity_state: z.enum(IDENTITY_STATES),
    field_sources: z.record(z.string(), z.string()),
    deleted_at: when.nullable(),
  })
  .partial();

type Snapshot = z.infer<typeof snapshotSchema>;

export interface MergeToUndo {
  readonly from_device_id: string;
  readonly to_device_id: string;
  readonly identifiers: unknown;
  readonly snapshot: unknown;
}

export interface UnmergeResult {
  /** Identifiers moved back to the restored device. */
  readonly identifiersMoved: number;
  /** Whether the device got its IP back (false when another active device holds it, or it had none). */
  readonly ipRestored: boolean;
}

function unreadable(what: string, err: z.ZodError): SondeError {
  const issue = err.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  return new SondeError(
    "SONDE_INTERNAL",
    `the merge's ${what} cannot be restored (${where}${issue?.message})`,
  );
}

export async function unmergeDevice(tx: Tx, tenantId: string, merge: MergeToUndo): Promise<UnmergeResult> {
  const ids = movedIdentifiers.safeParse(merge.identifiers);
  if (!ids.success) throw unreadable("identifiers", ids.error);
  const snap = snapshotSchema.safeParse(merge.snapshot);
  if (!snap.success) throw unreadable("snapshot", snap.error);
  const from = merge.from_device_id;

  const [device] = await queryRows<{ partition: string }>(
    tx,
    sql`select partition from devices where tenant_id = ${tenantId} and uid = ${from} for update`,
  );
  if (device === undefined) {
    throw new SondeError("SONDE_CONFLICT", `device ${from} no longer exists: there is nothing to unmerge`, {
      meta: { device: from },
    });
  }

  const moved = await queryRows<{ id: string }>(
    tx,
    sql`update device_identifiers di set device_id = ${from}
        from jsonb_to_recordset(${JSON.stringify(ids.data)}::jsonb) as m(type text, value text, partition text)
        where di.tenant_id = ${tenantId} and di.device_id = ${merge.to_device_id}
          and di.type = m.type and di.value = m.value and di.partition = m.partition
        returning di.id`,
  );

  const ip = await freeIp(tx, tenantId, from, device.partition, snap.data.ip ?? null);
  const groupId = await existingGroup(tx, tenantId, snap.data.group_id ?? null);
  await tx
    .update(devices)
    .set({
      ...restored(snap.data),
      ...("ip" in snap.data ? { ip } : {}),
      ...("group_id" in snap.data ? { group_id: groupId } : {}),
      merged_into: null,
      updated_at: new Date(),
    })
    .where(and(eq(devices.tenant_id, tenantId), eq(devices.uid, from)));
  return { identifiersMoved: moved.length, ipRestored: ip !== null };
}

/** The snapshot in the table's attribute names (the `type` column is the `device_type` attribute). */
function restored(snapshot: Snapshot): Partial<typeof devices.$inferInsert> {
  const { type, ip: _ip, group_id: _group, ...rest } = snapshot;
  return { ...rest, ...(type !== undefined ? { device_type: type } : {}) };
}

/** The IP, if no other active device of the partition holds it now; else null. */
async function freeIp(
  tx: Tx,
  tenantId: string,
  uid: string,
  partition: string,
  ip: string | null,
): Promise<string | null> {
  if (ip === null) return null;
  const holders = await queryRows<{ uid: string }>(
    tx,
    sql`select uid from devices
        where tenant_id = ${tenantId} and partition = ${partition} and ip = ${ip} and uid <> ${uid}
          and deleted_at is null and merged_into is null
        limit 1`,
  );
  return holders.length === 0 ? ip : null;
}

/** The group the device was in, unless it was removed since (the key would point at nothing). */
async function existingGroup(tx: Tx, tenantId: string, groupId: string | null): Promise<string | null> {
  if (groupId === null) return null;
  const found = await queryRows<{ id: string }>(
    tx,
    sql`select id from device_groups where tenant_id = ${tenantId} and id = ${groupId}`,
  );
  return found.length === 0 ? null : groupId;
}
