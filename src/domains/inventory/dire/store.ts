import { type SQL, sql } from "drizzle-orm";
import { queryRows, type Tx } from "../../../kernel/tenancy/transaction.js";
import type { DeviceIdentifierType, IdentifierConfidence } from "../inventory.schema.js";

/**
 * DIRE's statements, set-based: each takes a whole batch as one JSON parameter (jsonb_to_recordset)
 * so that a batch costs a fixed number of round trips, whatever its size. They run in the tenant's
 * transaction (Kernel.bulk), as the application role under row-level security: no statement here
 * names a tenant in a filter; inserts name it because the table needs it, and RLS checks it.
 */

/** The device columns DIRE reads and writes, with their SQL types (for jsonb_to_recordset). */
export const DEVICE_COLUMNS = [
  ["uid", "text"],
  ["device_type", "text"],
  ["type_id", "integer"],
  ["name", "text"],
  ["hostname", "text"],
  ["ip", "text"],
  ["mac", "text"],
  ["vendor_name", "text"],
  ["model", "text"],
  ["os", "text"],
  ["domain", "text"],
  ["zone", "text"],
  ["subnet", "text"],
  ["region", "text"],
  ["first_seen_time", "timestamptz"],
  ["last_seen_time", "timestamptz"],
  ["risk_level", "text"],
  ["is_managed", "boolean"],
  ["is_available", "boolean"],
  ["discovery_sources", "text[]"],
  ["agent_id", "text"],
  ["poller_id", "text"],
  ["partition", "text"],
  ["tags", "text[]"],
  ["metadata", "jsonb"],
  ["group_id", "uuid"],
  ["identity_state", "text"],
  ["field_sources", "jsonb"],
  ["merged_into", "text"],
  ["deleted_at", "timestamptz"],
] as const;

export type DeviceColumn = (typeof DEVICE_COLUMNS)[number][0];
/** A device as JSON: timestamps as ISO strings, exactly what row_to_json gives and jsonb_to_recordset takes. */
export type DeviceRow = { [K in DeviceColumn]: unknown } & { uid: string; partition: string };

const COLUMN_LIST = DEVICE_COLUMNS.map(([c]) => `"${c}"`).join(", ");
const UPDATE_SET = DEVICE_COLUMNS.filter(([c]) => c !== "uid")
  .map(([c]) => `"${c}" = excluded."${c}"`)
  .join(", ");

const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;

/** `{"a","b\"c"}`: a PostgreSQL array literal, for list columns passed through a text[] parameter. */
function arrayLiteral(values: unknown): string {
  const list = Array.isArray(values) ? values : [];
  return `{${list.map((v) => `"${String(v).replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",")}}`;
}

/**
 * A batch as one array parameter per column, unnested back into rows: decoding typed arrays costs a
 * fraction of jsonb_to_recordset's, and the statement stays one round trip. List and JSON columns
 * travel as text (array literals, JSON) and are cast per row.
 */
function unnestRows<R>(
  rows: readonly R[],
  columns: readonly (readonly [string, string])[],
  get: (row: R, column: string) => unknown,
): SQL {
  const params = columns.map(([name, type]) => {
    const values = rows.map((r) => {
      const v = get(r, name);
      if (v === null || v === undefined) return null;
      if (type === "text[]") return arrayLiteral(v);
      if (type === "jsonb") return JSON.stringify(v);
      return v;
    });
    const arrayType = type === "text[]" || type === "jsonb" ? "text" : type;
    return sql`${sql.param(values)}::${sql.raw(arrayType)}[]`;
  });
  return sql`unnest(${sql.join(params, sql`, `)}) as u(${sql.raw(columns.map(([c]) => `"${c}"`).join(", "))})`;
}

/** `u."col"` with the cast its type needs after unnest. */
function selectList(columns: readonly (readonly [string, string])[]): string {
  return columns
    .map(([c, t]) => (t === "text[]" || t === "jsonb" ? `u."${c}"::${t}` : `u."${c}"`))
    .join(", ");
}

/**
 * Serialises a tenant's ingest batches: reconciliation reads identifiers and then writes devices, and
 * two batches naming the same new device must not both create it. Other tenants run in parallel.
 */
export async function lockTenantIngest(tx: Tx, tenantId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`sonde.dire:${tenantId}`}, 0))`);
}

export interface IdentifierKey {
  readonly type: DeviceIdentifierType;
  readonly value: string;
  readonly partition: string;
}

const KEY_COLUMNS = [
  ["type", "text"],
  ["value", "text"],
  ["partition", "text"],
] as const;

export interface StoredIdentifier extends IdentifierKey {
  readonly device_id: string;
  readonly confidence: IdentifierConfidence;
  readonly sightings: number;
  readonly last_seen: string;
}

export async function findIdentifiers(tx: Tx, keys: readonly IdentifierKey[]): Promise<StoredIdentifier[]> {
  if (keys.length === 0) return [];
  return queryRows<StoredIdentifier & Record<string, unknown>>(
    tx,
    // LATERAL with LIMIT 1 (the key is unique) cannot be flattened into a join: one index probe per
    // key, whatever the planner believes about the table's size (its statistics lag a bulk load).
    sql`select i.type, i.value, i.partition, i.device_id, i.confidence, i.sightings, i.last_seen
        from ${unnestRows(keys, KEY_COLUMNS, (k, c) => k[c as keyof IdentifierKey])}
        cross join lateral (
          select * from device_identifiers d
          where d.type = u.type and d.value = u.value and d.partition = u.partition
          limit 1) i`,
  );
}

/** Active devices (not merged, not deleted) holding these addresses in these partitions. */
export async function findIpHolders(
  tx: Tx,
  pairs: readonly { partition: string; ip: string }[],
): Promise<{ uid: string; partition: string; ip: string }[]> {
  if (pairs.length === 0) return [];
  return queryRows(
    tx,
    sql`select d.uid, d.partition, d.ip
        from ${unnestRows(
          pairs,
          [
            ["partition", "text"],
            ["ip", "text"],
          ] as const,
          (p, c) => p[c as "partition" | "ip"],
        )}
        cross join lateral (
          select uid, partition, ip from devices x
          -- Every predicate of the partial unique index, spelled out, or the planner cannot use it.
          where x.partition = u.partition and x.ip = u.ip
            and x.ip is not null and x.deleted_at is null and x.merged_into is null
          limit 1) d`,
  );
}

/** Devices by canonical id, as JSON rows. */
export async function loadDevices(tx: Tx, uids: readonly string[]): Promise<DeviceRow[]> {
  if (uids.length === 0) return [];
  const rows = await queryRows<{ r: DeviceRow }>(
    tx,
    sql`select row_to_json(d) as r from (
          select ${sql.raw(COLUMN_LIST)} from devices
          where uid = any(${sql.param([...uids])}::text[])) d`,
  );
  return rows.map((row) => row.r);
}

/** Frees addresses first, so that the upsert can hand them to other devices without a unique violation. */
export async function releaseIps(tx: Tx, uids: readonly string[]): Promise<void> {
  if (uids.length === 0) return;
  await tx.execute(sql`update devices set ip = null where uid = any(${sql.param([...uids])}::text[])`);
}

export async function upsertDevices(tx: Tx, tenantId: string, rows: readonly DeviceRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(
    sql`insert into devices (tenant_id, ${sql.raw(COLUMN_LIST)}, updated_at)
        select ${tenantId}::uuid, ${sql.raw(selectList(DEVICE_COLUMNS))}, now()
        from ${unnestRows(rows, DEVICE_COLUMNS, (r, c) => r[c as DeviceColumn])}
        on conflict (tenant_id, uid) do update set ${sql.raw(UPDATE_SET)}, updated_at = now()`,
  );
}

/** Moves every identifier of `from` to `to`; returns what moved (the merge audit keeps it for unmerge). */
export async function moveIdentifiers(tx: Tx, from: string, to: string): Promise<IdentifierKey[]> {
  return queryRows<IdentifierKey & Record<string, unknown>>(
    tx,
    sql`update device_identifiers set device_id = ${to} where device_id = ${from}
        returning type, value, partition`,
  );
}

export interface IdentifierWrite extends IdentifierKey {
  readonly device_id: string;
  readonly confidence: IdentifierConfidence;
  readonly source: string;
  readonly sightings: number;
  readonly first_seen: string;
  readonly last_seen: string;
}

const IDENTIFIER_COLUMNS = [
  ["device_id", "text"],
  ["type", "text"],
  ["value", "text"],
  ["partition", "text"],
  ["confidence", "text"],
  ["source", "text"],
  ["sightings", "integer"],
  ["first_seen", "timestamptz"],
  ["last_seen", "timestamptz"],
] as const;

export async function upsertIdentifiers(
  tx: Tx,
  tenantId: string,
  rows: readonly IdentifierWrite[],
): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(
    sql`insert into device_identifiers
          (tenant_id, device_id, type, value, partition, confidence, source, sightings, first_seen, last_seen)
        select ${tenantId}::uuid, ${sql.raw(selectList(IDENTIFIER_COLUMNS))}
        from ${unnestRows(rows, IDENTIFIER_COLUMNS, (r, c) => r[c as keyof IdentifierWrite])}
        on conflict (tenant_id, type, value, partition) do update set
          device_id = excluded.device_id, sightings = excluded.sightings, last_seen = excluded.last_seen`,
  );
}

export interface MergeAuditWrite {
  readonly from_device_id: string;
  readonly to_device_id: string;
  readonly partition: string;
  readonly outcome: "merged" | "blocked";
  readonly reason: string;
  readonly identifiers: readonly IdentifierKey[];
  readonly snapshot: Readonly<Record<string, unknown>>;
  readonly actor: string;
}

/** Inserts audit rows; a blocked merge already recorded for the pair and reason is not added again. */
export async function insertMergeAudits(
  tx: Tx,
  tenantId: string,
  rows: readonly MergeAuditWrite[],
): Promise<{ id: string; outcome: string }[]> {
  if (rows.length === 0) return [];
  return queryRows(
    tx,
    sql`insert into merge_audits
          (tenant_id, from_device_id, to_device_id, partition, outcome, reason, identifiers, snapshot, actor)
        select ${tenantId}::uuid, r.from_device_id, r.to_device_id, r.partition, r.outcome, r.reason,
               r.identifiers, r.snapshot, r.actor
        from jsonb_to_recordset(${json(rows)}) as r(from_device_id text, to_device_id text, partition text,
          outcome text, reason text, identifiers jsonb, snapshot jsonb, actor text)
        on conflict (tenant_id, from_device_id, to_device_id, reason) where outcome = 'blocked' do nothing
        returning id, outcome`,
  );
}

export interface AliasSighting {
  readonly device_id: string;
  readonly alias_type: "ip" | "hostname";
  readonly alias_value: string;
  readonly partition: string;
  /** `new`: the device moved to this address in the batch; `seen`: it still has it. */
  readonly kind: "new" | "seen";
  /** The batch's first and last sighting, and how many distinct sightings it had. */
  readonly first: string;
  readonly seen: string;
  readonly hits: number;
}

/**
 * A device's aliases are the addresses it moved through: its first address is its own, and a row
 * appears when it changes. A new alias is `detected` (or `confirmed` when the batch saw it twice);
 * an alias the device returns to after it went stale or was replaced is `updated`.
 */
export async function recordNewAliases(
  tx: Tx,
  tenantId: string,
  rows: readonly AliasSighting[],
): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(
    sql`insert into device_alias_states
          (tenant_id, device_id, alias_type, alias_value, partition, state, sightings, first_seen, last_seen)
        select ${tenantId}::uuid, r.device_id, r.alias_type, r.alias_value, r.partition,
               case when r.hits > 1 then 'confirmed' else 'detected' end, r.hits, r.first, r.seen
        from jsonb_to_recordset(${json(rows)}) as r(device_id text, alias_type text, alias_value text,
          partition text, first timestamptz, seen timestamptz, hits integer)
        on conflict (tenant_id, device_id, alias_type, alias_value) do update set
          state = case
            when excluded.last_seen <= device_alias_states.last_seen then device_alias_states.state
            when device_alias_states.state in ('stale', 'replaced', 'archived') then 'updated'
            else 'confirmed' end,
          replaced_by = null,
          sightings = device_alias_states.sightings
            + case when excluded.last_seen > device_alias_states.last_seen then 1 else 0 end,
          last_seen = greatest(device_alias_states.last_seen, excluded.last_seen)`,
  );
}

/** A later sighting of a `detected` alias confirms it; anything else changes nothing (no write). */
export async function confirmAliases(tx: Tx, rows: readonly AliasSighting[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(
    sql`update device_alias_states a
        set state = 'confirmed', sightings = a.sightings + 1, last_seen = r.seen
        from jsonb_to_recordset(${json(rows)}) as r(device_id text, alias_type text, alias_value text,
          seen timestamptz)
        where a.device_id = r.device_id and a.alias_type = r.alias_type and a.alias_value = r.alias_value
          and a.state = 'detected' and a.last_seen < r.seen`,
  );
}

export interface AliasLoss {
  readonly device_id: string;
  readonly alias_type: "ip" | "hostname";
  readonly alias_value: string;
  readonly partition: string;
  readonly seen: string;
  /** `stale`: the device moved to another value; `replaced`: another device took this one. */
  readonly state: "stale" | "replaced";
  readonly replaced_by: string | null;
}

/** Records that devices lost addresses (a device's first address gets its row here). */
export async function recordAliasLosses(tx: Tx, tenantId: string, rows: readonly AliasLoss[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(
    sql`insert into device_alias_states
          (tenant_id, device_id, alias_type, alias_value, partition, state, replaced_by, first_seen, last_seen)
        select ${tenantId}::uuid, r.device_id, r.alias_type, r.alias_value, r.partition, r.state, r.replaced_by,
               r.seen, r.seen
        from jsonb_to_recordset(${json(rows)}) as r(device_id text, alias_type text, alias_value text,
          partition text, state text, replaced_by text, seen timestamptz)
        on conflict (tenant_id, device_id, alias_type, alias_value) do update set
          state = excluded.state, replaced_by = excluded.replaced_by
        where device_alias_states.state <> 'archived'`,
  );
}

/** The tenant's device limit (null: none) and, when there is one, how many active devices it has. */
export async function deviceAllowance(tx: Tx, tenantId: string): Promise<number | null> {
  const [tenant] = await queryRows<{ max_devices: number | null }>(
    tx,
    sql`select max_devices from tenants where id = ${tenantId}`,
  );
  const limit = tenant?.max_devices ?? null;
  if (limit === null) return null;
  const [row] = await queryRows<{ n: string | number }>(
    tx,
    sql`select count(*) as n from devices where merged_into is null and deleted_at is null`,
  );
  return Math.max(0, limit - Number(row?.n ?? 0));
}
