/**
 * The device list at scale: `count` devices loaded into one tenant with `insert … select
 * generate_series` (as the owner: realistic hostnames `<site>-<role>-<n>`, 4 partitions, unique IPs
 * and MACs, canonical-looking uids), then read through Kernel.list as a viewer, the way the JSON:API's
 * `GET /api/v2/devices` calls it: the first page (default size, default order: the primary key), and a
 * page filtered by partition and hostname prefix (`filter[partition]=…&filter[hostname][like]=ams-sw-%`).
 */
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import pg from "pg";
import type { Logger as DrizzleLogger } from "drizzle-orm/logger";
import type { PGlite } from "@electric-sql/pglite";
import { inventoryResources } from "../../src/domains/inventory/resources/index.js";
import type { Filter } from "../../src/kernel/filter.js";
import { Kernel, type ListQuery } from "../../src/kernel/kernel.js";
import { APP_ROLE } from "../../src/kernel/tenancy/rls.js";
import * as schema from "../../src/platform/db/schema.js";
import type { Database, Orm, SqlExecutor } from "../../src/platform/db/types.js";
import { percentile } from "../stats.js";
import { silentLogger } from "../kernel/database.js";
import { user } from "../kernel/resource.js";
import { ROLES, SITES } from "./generate.js";

export const PARTITIONS = ["dc-east", "dc-west", "branch", "cloud"] as const;

const sqlArray = (items: readonly string[]) => `array[${items.map((s) => `'${s}'`).join(",")}]`;

/**
 * Device g: role g % 8, site (g / 8) % 40, partition (g / 320) % 4, so that every (partition, site,
 * role) holds about count / 1280 devices. IP 10.x.y.z and MAC unique per device.
 */
function loadSql(count: number): string {
  const roles = ROLES.map((r) => r.role);
  return `
insert into devices (tenant_id, uid, name, hostname, ip, mac, vendor_name, model, os, type_id, partition,
                     discovery_sources, identity_state, is_available, first_seen_time, last_seen_time,
                     metadata, field_sources)
select $1::uuid,
       'sr:' || md5('bench-device:' || g)::uuid,
       h.hostname,
       h.hostname,
       '10.' || (g / 65536) % 256 || '.' || (g / 256) % 256 || '.' || g % 256,
       '001EBD' || lpad(upper(to_hex(g % 16777216)), 6, '0'),
       (${sqlArray(ROLES.map((r) => r.vendor))})[1 + g % 8],
       (${sqlArray(ROLES.map((r) => r.model))})[1 + g % 8],
       (${sqlArray(ROLES.map((r) => r.os))})[1 + g % 8],
       (array[${ROLES.map((r) => r.typeId).join(",")}])[1 + g % 8],
       (${sqlArray(PARTITIONS)})[1 + (g / 320) % 4],
       case when g % 3 = 0 then array['armis','netbox'] else array['armis'] end,
       case when g % 10 = 0 then 'provisional' else 'promoted' end,
       g % 7 <> 0,
       now() - interval '90 days' + make_interval(secs => g % 86400),
       now() - make_interval(secs => g % 86400),
       jsonb_build_object('armis_device_id', 1000000 + g),
       '{"hostname":"armis","ip":"armis"}'::jsonb
from generate_series(1, ${Math.trunc(count)}) g,
     lateral (select (${sqlArray(SITES)})[1 + (g / 8) % 40] || '-' ||
                     (${sqlArray(roles)})[1 + g % 8] || '-' || lpad(g::text, 7, '0') as hostname) h`;
}

export interface LoadedDevices {
  readonly loadMs: number;
  readonly analyzeMs: number;
}

/**
 * Loads the devices fast: the table's secondary indexes dropped and then rebuilt from their own
 * definitions (pg_indexes), rows in primary-key order, and the foreign-key triggers skipped for the
 * load's transaction (`session_replication_role = replica`; the one tenant referenced exists). A row
 * at a time, the same load takes three to four times as long.
 */
export async function loadDevices(db: Database, tenantId: string, count: number): Promise<LoadedDevices> {
  let t0 = performance.now();
  const indexes = await db.query<{ name: string; def: string }>(
    "select indexname as name, indexdef as def from pg_indexes where schemaname = 'public' and tablename = 'devices' and indexname <> 'devices_pkey'",
  );
  for (const i of indexes.rows) await db.exec(`drop index "${i.name}"`);
  await db.transaction(async (tx) => {
    await tx.query("set local session_replication_role = replica");
    await tx.query(`${loadSql(count)} order by 2`, [tenantId]);
  });
  for (const i of indexes.rows) await db.exec(i.def);
  const loadMs = performance.now() - t0;
  t0 = performance.now();
  await db.exec("vacuum (analyze) devices");
  const analyzeMs = performance.now() - t0;
  return { loadMs, analyzeMs };
}

/** What `GET /api/v2/devices` passes: no filter, no sort, the default page. */
const FIRST_PAGE: ListQuery = { page: {}, aggregates: [] };

/** `filter[partition]=<p>&filter[hostname][like]=<site>-<role>-%`, rotating over partitions, sites, roles. */
function filteredQuery(i: number): ListQuery {
  const partition = PARTITIONS[i % PARTITIONS.length] ?? "default";
  const site = SITES[(i * 7) % SITES.length] ?? "ams";
  const role = ROLES[(i * 3) % ROLES.length]?.role ?? "sw";
  const filter: Filter = {
    and: [
      { field: "partition", op: "eq", value: partition },
      { field: "hostname", op: "like", value: `${site}-${role}-%` },
    ],
  };
  return { filter, page: {}, aggregates: [] };
}

export interface ListFigures {
  readonly firstPageMs: readonly number[];
  readonly filteredMs: readonly number[];
  readonly firstPageRows: number;
  /** Rows of the first page of a filtered list (at most the page size). */
  readonly filteredRows: number;
}

/** `runs` timed calls of each list, interleaved (the order alternates), after `warmup` untimed ones. */
export async function measureLists(
  db: Database,
  tenantId: string,
  runs: number,
  warmup = 20,
): Promise<ListFigures> {
  const kernel = new Kernel({ orm: db.orm, resources: inventoryResources, logger: silentLogger });
  const devices = kernel.resource("device");
  const viewer = { actor: user(tenantId, "viewer") };
  const first: number[] = [];
  const filtered: number[] = [];
  let firstPageRows = 0;
  let filteredRows = 0;
  const time = async (q: ListQuery, into: number[] | undefined) => {
    const t0 = performance.now();
    const page = await kernel.list(devices, viewer, q);
    into?.push(performance.now() - t0);
    return page.records.length;
  };
  for (let i = 0; i < warmup + runs; i++) {
    const keep = i >= warmup;
    const a = () => time(FIRST_PAGE, keep ? first : undefined);
    const b = () => time(filteredQuery(i), keep ? filtered : undefined);
    if (i % 2 === 0) {
      firstPageRows = await a();
      filteredRows = await b();
    } else {
      filteredRows = await b();
      firstPageRows = await a();
    }
  }
  return { firstPageMs: first, filteredMs: filtered, firstPageRows, filteredRows };
}

/** Devices one filtered query matches (before the page limit), as the owner: the sort's input size. */
export async function filteredMatches(db: Database, tenantId: string): Promise<number> {
  const partition = PARTITIONS[0];
  const r = await db.query<{ n: string }>(
    "select count(*) as n from devices where tenant_id = $1 and partition = $2 and hostname like $3",
    [tenantId, partition, `${SITES[0]}-${ROLES[0].role}-%`],
  );
  return Number(r.rows[0]?.n ?? 0);
}

export const p50 = (v: readonly number[]) => percentile(v, 50);
export const p95 = (v: readonly number[]) => percentile(v, 95);

/**
 * The filtered list's statement with the hostname prefix also written as a range in the pattern
 * operators (`hostname ~>=~ 'ams-sw-' and hostname ~<~ 'ams-sw.'`): unlike LIKE (`textlike` is not
 * leakproof), they are leakproof, so under row-level security the planner may use them as index
 * conditions of the hostname index (text_pattern_ops).
 */
function withPrefixRange(statement: Caught): Caught {
  const likeAt = statement.params.findIndex((p) => typeof p === "string" && /^[^%_]+%$/.test(p));
  const pattern = statement.params[likeAt];
  if (typeof pattern !== "string") throw new Error("no prefix pattern among the filtered list's parameters");
  const prefix = pattern.slice(0, -1);
  const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const n = statement.params.length;
  const at = statement.sql.lastIndexOf(" order by ");
  return {
    sql: `${statement.sql.slice(0, at)} and "devices"."hostname" ~>=~ $${n + 1} and "devices"."hostname" ~<~ $${n + 2}${statement.sql.slice(at)}`,
    params: [...statement.params, prefix, upper],
  };
}

interface Caught {
  readonly sql: string;
  readonly params: unknown[];
}

export interface Explained {
  /** Per list, the indexes its plan names. */
  readonly indexes: Map<string, string[]>;
  /** The filtered statement as sent, and with the prefix range: milliseconds per run, interleaved. */
  readonly filteredMs: number[];
  readonly prefixRangeMs: number[];
}

/**
 * `--explain`: the statements Kernel.list sends (caught with a drizzle logger on a second drizzle
 * instance over the same database), explained under the tenant's RLS scope as the kernel runs them,
 * and a what-if: the filtered statement with the prefix also as a range (withPrefixRange), explained
 * and timed against the original in `runs` interleaved runs each.
 */
export async function explainLists(
  db: Database,
  url: string | undefined,
  tenantId: string,
  log: (line: string) => void,
  runs = 50,
): Promise<Explained> {
  const caught: Caught[] = [];
  const logger: DrizzleLogger = {
    logQuery(query, params) {
      if (/from "devices"/.test(query)) caught.push({ sql: query, params });
    },
  };
  let pool: pg.Pool | undefined;
  let orm: Orm;
  if (url !== undefined) {
    pool = new pg.Pool({ connectionString: url, max: 1 });
    orm = drizzlePg(pool, { schema, logger }) as unknown as Orm;
  } else {
    const client = (db.orm as unknown as { $client: PGlite }).$client;
    orm = drizzlePglite(client, { schema, logger }) as unknown as Orm;
  }
  const scoped = <T>(fn: (tx: SqlExecutor) => Promise<T>) =>
    db.transaction(async (tx) => {
      await tx.query("select set_config('role', $1, true), set_config('app.tenant_id', $2, true)", [
        APP_ROLE,
        tenantId,
      ]);
      return fn(tx);
    });
  const statements = new Map<string, Caught>();
  try {
    const kernel = new Kernel({ orm, resources: inventoryResources, logger: silentLogger });
    const devices = kernel.resource("device");
    const viewer = { actor: user(tenantId, "viewer") };
    for (const [name, q] of [
      ["first_page", FIRST_PAGE],
      ["filtered", filteredQuery(0)],
    ] as const) {
      caught.length = 0;
      await kernel.list(devices, viewer, q);
      const statement = caught.at(-1);
      if (statement === undefined) throw new Error(`no devices query caught for ${name}`);
      statements.set(name, statement);
    }
  } finally {
    await pool?.end();
  }
  const filtered = statements.get("filtered");
  if (filtered !== undefined) statements.set("filtered_with_prefix_range", withPrefixRange(filtered));
  const indexes = new Map<string, string[]>();
  for (const [name, statement] of statements) {
    const plan = await scoped((tx) =>
      tx.query<Record<string, string>>(
        `explain (analyze, buffers, costs off) ${statement.sql}`,
        statement.params,
      ),
    );
    const lines = plan.rows.map((row) => String(Object.values(row)[0]));
    const how =
      name === "filtered_with_prefix_range"
        ? "what-if: the kernel's statement plus the prefix as a pattern-operator range, under RLS"
        : "as the kernel sends it, under RLS";
    log(`plan of the ${name.replace(/_/g, " ")} list (${how}):`);
    for (const l of lines) log(`  ${l}`);
    const used = new Set<string>();
    for (const l of lines) {
      const m = / (?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)/.exec(l);
      if (m?.[1] !== undefined) used.add(m[1]);
    }
    indexes.set(name, [...used]);
  }
  const filteredMs: number[] = [];
  const prefixRangeMs: number[] = [];
  const ranged = statements.get("filtered_with_prefix_range");
  if (filtered !== undefined && ranged !== undefined) {
    for (let i = 0; i < runs; i++) {
      for (const [statement, into] of i % 2 === 0
        ? ([
            [filtered, filteredMs],
            [ranged, prefixRangeMs],
          ] as const)
        : ([
            [ranged, prefixRangeMs],
            [filtered, filteredMs],
          ] as const)) {
        const t0 = performance.now();
        await scoped((tx) => tx.query(statement.sql, statement.params));
        into.push(performance.now() - t0);
      }
    }
  }
  return { indexes, filteredMs, prefixRangeMs };
}
