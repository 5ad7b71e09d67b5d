/**
 * The ceiling the ingest is compared with: the same pass-1 rows, flattened to columns, written with a
 * raw COPY into a plain table (no indexes, no RLS, no reconciliation) on the same database in the same
 * run. PostgreSQL: COPY FROM STDIN through pg-copy-streams on a connection of its own; PGlite: COPY FROM
 * '/dev/blob' on the embedded client. The time includes turning the rows into COPY text.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { DeviceUpdateInput } from "../../src/domains/inventory/dire/update.js";
import type { Database } from "../../src/platform/db/types.js";

const COLUMNS = [
  "tenant_id",
  "source",
  "ip",
  "mac",
  "hostname",
  "name",
  "vendor_name",
  "model",
  "os",
  "type_id",
  "is_available",
  "seen_at",
  "armis_device_id",
  "netbox_device_id",
  "metadata",
] as const;

export const COPY_TABLE = `
create table bench_copy_devices (
  tenant_id uuid not null,
  source text not null,
  ip text,
  mac text,
  hostname text,
  name text,
  vendor_name text,
  model text,
  os text,
  type_id integer,
  is_available boolean,
  seen_at timestamptz,
  armis_device_id text,
  netbox_device_id text,
  metadata jsonb not null
)`;

/** A value in COPY's text format: `\N` for null; backslash, tab, newline and return escaped. */
function field(v: unknown): string {
  if (v === undefined || v === null) return "\\N";
  const s = typeof v === "object" ? JSON.stringify(v) : String(v);
  return s.replace(/[\\\t\n\r]/g, (c) =>
    c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r",
  );
}

function line(tenantId: string, u: DeviceUpdateInput): string {
  const meta = u.metadata ?? {};
  const values: unknown[] = [
    tenantId,
    u.source,
    u.ip,
    u.mac,
    u.hostname,
    u.name,
    u.vendor_name,
    u.model,
    u.os,
    u.type_id,
    u.is_available,
    u.timestamp,
    meta.armis_device_id,
    meta.netbox_device_id,
    meta,
  ];
  return `${values.map(field).join("\t")}\n`;
}

/** COPY text in chunks of `rowsPerChunk` lines. */
function* chunks(tenantId: string, rows: readonly DeviceUpdateInput[], rowsPerChunk = 1_000) {
  for (let i = 0; i < rows.length; i += rowsPerChunk) {
    let s = "";
    for (const u of rows.slice(i, i + rowsPerChunk)) s += line(tenantId, u);
    yield s;
  }
}

const COPY_SQL = `copy bench_copy_devices (${COLUMNS.join(", ")}) from stdin`;

interface PgliteCopy {
  query(text: string, params: unknown[], options: { blob: Blob }): Promise<unknown>;
}

/** The embedded database's PGlite client (drizzle keeps it as `$client`). */
function pgliteClient(db: Database): PgliteCopy {
  const client = (db.orm as unknown as { $client?: PgliteCopy }).$client;
  if (client === undefined || typeof client.query !== "function")
    throw new Error("the embedded database exposes no PGlite client");
  return client;
}

/**
 * COPYs `rows` into an emptied bench_copy_devices `rounds` times; returns each round's milliseconds.
 * The table is truncated before each round (outside the timing).
 */
export async function copyCeiling(
  db: Database,
  url: string | undefined,
  tenantId: string,
  rows: readonly DeviceUpdateInput[],
  rounds: number,
): Promise<number[]> {
  await db.exec(COPY_TABLE);
  const times: number[] = [];
  const client = url !== undefined ? new pg.Client({ connectionString: url }) : undefined;
  await client?.connect();
  try {
    for (let r = 0; r < rounds; r++) {
      await db.exec("truncate bench_copy_devices");
      const t0 = performance.now();
      if (client !== undefined) {
        await pipeline(Readable.from(chunks(tenantId, rows)), client.query(copyFrom(COPY_SQL)));
      } else {
        const text = [...chunks(tenantId, rows)].join("");
        await pgliteClient(db).query(COPY_SQL.replace("from stdin", "from '/dev/blob'"), [], {
          blob: new Blob([text]),
        });
      }
      times.push(performance.now() - t0);
    }
    const copied = await db.query<{ n: string }>("select count(*) as n from bench_copy_devices");
    if (Number(copied.rows[0]?.n) !== rows.length)
      throw new Error(`COPY wrote ${copied.rows[0]?.n} rows, expected ${rows.length}`);
  } finally {
    await client?.end();
  }
  return times;
}
