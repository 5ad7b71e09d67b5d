/**
 * `npm run bench -- ingest [--embedded] [--updates=N] [--devices=N] [--runs=N] [--seed=N]
 *   [--actor=operator|system] [--no-cache] [--separate-twins] [--explain] [--profile]
 *   [--what-if-analyze] [--skip-ingest] [--skip-list]`
 *
 * DIRE's ingest and the device list at scale, on a fresh PostgreSQL database (BENCH_DATABASE_URL,
 * default postgres://postgres@127.0.0.1:5432/postgres; `sonde_bench_<random>` is created and dropped),
 * or an in-memory PGlite with `--embedded` (smaller sizes; metrics prefixed `embedded_`).
 *
 * 1. Ingest (ingest/generate.ts): `--updates` Armis updates (default 50,000), NetBox records for 30 % of
 *    those devices (half with the MAC, half matched by IP only) and 5 % NetBox-only devices, shuffled
 *    together, into an empty tenant through DeviceIngest.ingest, one call per batch of the ingest's
 *    default size, as an operator of the tenant (the sync API's caller), with DIRE's identity cache as a
 *    long-running core has it (`--no-cache`: without); then the update pass (every
 *    record a day later, 5 % of the devices on a new IP). Updates/s per pass, and the canonical count
 *    (active devices) after each, which must equal the true number of devices. A device's Armis and
 *    NetBox records may fall into one batch; `--separate-twins` keeps them in different batches.
 * 2. The ceiling: the same pass-1 rows COPYed into a plain table (ingest/copy.ts), median of 3.
 * 3. The device list (ingest/devices.ts): `--devices` devices (default 1,000,000) in another tenant,
 *    then Kernel.list as a viewer, as `GET /api/v2/devices` calls it: first page, and a page filtered
 *    by partition and hostname prefix; p50/p95 over `--runs` interleaved calls of each (default 200).
 *
 * `--explain` prints the lists' plans (stderr) and the indexes they use; `--profile` (PostgreSQL)
 * splits the ingest's time by SQL statement (ingest/profile.ts); `--what-if-analyze` refreshes the
 * statistics while the tenant fills up (see analyzeWhileGrowing). Targets (issue): ≥ 20,000 updates/s
 * and ≥ 25 % of the COPY ceiling on PostgreSQL; list p50 ≤ 50 ms.
 */
import { loadavg } from "node:os";
import { IdentityCache } from "../src/domains/inventory/dire/identity-cache.js";
import { DEFAULT_BATCH_SIZE, DeviceIngest } from "../src/domains/inventory/dire/ingest.js";
import { parseUpdate } from "../src/domains/inventory/dire/update.js";
import { type Actor, systemActor } from "../src/kernel/actor.js";
import { Kernel } from "../src/kernel/kernel.js";
import { tenants } from "../src/kernel/kernel.schema.js";
import { inventoryResources } from "../src/domains/inventory/resources/index.js";
import type { ActionContext } from "../src/kernel/pipeline/authorize.js";
import { APP_ROLE } from "../src/kernel/tenancy/rls.js";
import { migrateUp } from "../src/platform/db/migrate.js";
import type { Database, Orm } from "../src/platform/db/types.js";
import { type BenchDatabase, openBenchDatabase, silentLogger } from "./kernel/database.js";
import { user } from "./kernel/resource.js";
import type { Benchmark } from "./registry.js";
import { median, report } from "./stats.js";
import { copyCeiling } from "./ingest/copy.js";
import { explainLists, filteredMatches, loadDevices, measureLists, p50, p95 } from "./ingest/devices.js";
import { type Fed, feed, rateOver } from "./ingest/feed.js";
import { type Dataset, generate } from "./ingest/generate.js";
import { explainAnalyze, profiler, type Profiler } from "./ingest/profile.js";

const TARGET_UPDATES_PER_S = 20_000;
const TARGET_COPY_SHARE = 0.25;
const TARGET_LIST_P50_MS = 50;
const COPY_ROUNDS = 3;

interface Args {
  readonly embedded: boolean;
  readonly updates: number;
  readonly devices: number;
  readonly runs: number;
  readonly seed: number;
  readonly actor: "operator" | "system";
  readonly explain: boolean;
  readonly profile: boolean;
  readonly cache: boolean;
  readonly separateTwins: boolean;
  readonly whatIfAnalyze: boolean;
  readonly skipIngest: boolean;
  readonly skipList: boolean;
}

function parseArgs(args: readonly string[]): Args {
  const embedded = args.includes("--embedded");
  const value = (name: string): number | undefined => {
    const a = args.find((x) => x.startsWith(`--${name}=`));
    if (a === undefined) return undefined;
    const n = Number(a.slice(name.length + 3).replace(/_/g, ""));
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a positive integer`);
    return n;
  };
  const actor = args.find((x) => x.startsWith("--actor="))?.slice("--actor=".length) ?? "operator";
  if (actor !== "operator" && actor !== "system") throw new Error("--actor is operator or system");
  return {
    embedded,
    updates: value("updates") ?? (embedded ? 5_000 : 50_000),
    devices: value("devices") ?? (embedded ? 100_000 : 1_000_000),
    runs: value("runs") ?? 200,
    seed: value("seed") ?? 20261202,
    actor,
    explain: args.includes("--explain"),
    profile: args.includes("--profile"),
    cache: !args.includes("--no-cache"),
    separateTwins: args.includes("--separate-twins"),
    whatIfAnalyze: args.includes("--what-if-analyze"),
    skipIngest: args.includes("--skip-ingest"),
    skipList: args.includes("--skip-list"),
  };
}

const log = (msg: string) => process.stderr.write(`ingest bench: ${msg}\n`);

/** An error and its causes, one short line each (a failed query's error carries its whole batch). */
function describeError(err: unknown): string {
  const lines: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    const x = e as { name?: unknown; code?: unknown; message?: unknown; detail?: unknown; cause?: unknown };
    const message =
      String(x.message ?? e)
        .split("\n")[0]
        ?.slice(0, 200) ?? "";
    const detail = typeof x.detail === "string" ? ` (${x.detail.slice(0, 200)})` : "";
    lines.push(
      `${String(x.name ?? "Error")}${typeof x.code === "string" ? ` ${x.code}` : ""}: ${message}${detail}`,
    );
    e = x.cause;
  }
  return lines.join("\n  caused by ");
}

async function createTenant(db: Database, slug: string): Promise<string> {
  const [row] = await db.orm.insert(tenants).values({ slug, name: slug }).returning({ id: tenants.id });
  if (row === undefined) throw new Error("no tenant");
  return row.id;
}

/** Active (canonical) devices of the tenant: neither merged into another nor deleted. */
async function canonicalCount(db: Database, tenantId: string): Promise<number> {
  const r = await db.query<{ n: string }>(
    "select count(*) as n from devices where tenant_id = $1 and merged_into is null and deleted_at is null",
    [tenantId],
  );
  return Number(r.rows[0]?.n ?? Number.NaN);
}

/** Active devices of the tenant on one of `ips`: after pass 2, every moved device on its new IP. */
async function devicesOn(db: Database, tenantId: string, ips: readonly string[]): Promise<number> {
  const r = await db.query<{ n: string }>(
    "select count(*) as n from devices where tenant_id = $1 and merged_into is null and deleted_at is null and ip = any($2::text[])",
    [tenantId, ips],
  );
  return Number(r.rows[0]?.n ?? Number.NaN);
}

function reportPass(prefix: string, pass: string, fed: Fed, updates: number): number {
  const rate = updates / (fed.ms / 1000);
  const q = Math.max(1, Math.floor(fed.callMs.length / 4));
  report(`${prefix}ingest_${pass}_updates`, updates, "count", 0);
  report(`${prefix}ingest_${pass}_seconds`, fed.ms / 1000, "s");
  report(`${prefix}ingest_${pass}_updates_per_s`, rate, "updates/s", 0);
  report(`${prefix}ingest_${pass}_batch_median`, median(fed.callMs), "ms", 1);
  report(`${prefix}ingest_${pass}_first_quarter_updates_per_s`, rateOver(fed, 0, q), "updates/s", 0);
  report(
    `${prefix}ingest_${pass}_last_quarter_updates_per_s`,
    rateOver(fed, fed.callMs.length - q, fed.callMs.length),
    "updates/s",
    0,
  );
  const r = fed.result;
  report(`${prefix}ingest_${pass}_created`, r.created, "count", 0);
  report(`${prefix}ingest_${pass}_updated`, r.updated, "count", 0);
  report(`${prefix}ingest_${pass}_merged`, r.merged, "count", 0);
  report(`${prefix}ingest_${pass}_blocked_merges`, r.blocked_merges, "count", 0);
  report(`${prefix}ingest_${pass}_rejected`, r.rejected.length, "count", 0);
  if (r.rejected.length > 0) log(`${pass}: first rejection: ${JSON.stringify(r.rejected[0])}`);
  return rate;
}

/** Microseconds per update that validation and normalisation (parseUpdate) cost, in process. */
function parseCostUs(rows: readonly unknown[]): number {
  const now = new Date();
  for (let i = 0; i < Math.min(rows.length, 2_000); i++) parseUpdate(rows[i], i, now);
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i++) parseUpdate(rows[i], i, now);
  return ((performance.now() - t0) * 1000) / rows.length;
}

async function reportProfile(
  prefix: string,
  pass: string,
  p: Profiler,
  totalMs: number,
  url: string,
  tenantId: string,
): Promise<void> {
  const rows = [...p.stats].sort((a, b) => b[1].ms - a[1].ms);
  const sqlMs = rows.reduce((a, [, s]) => a + s.ms, 0);
  report(`${prefix}profile_${pass}_sql_share`, (sqlMs / totalMs) * 100, "%", 1);
  log(`${pass}: time by statement (client-side, round trip included), of ${totalMs.toFixed(0)} ms:`);
  for (const [shape, s] of rows.slice(0, 15)) {
    log(
      `  ${s.ms.toFixed(0).padStart(7)} ms ${((s.ms / totalMs) * 100).toFixed(1).padStart(5)} %  ${String(s.calls).padStart(5)} calls ${String(s.rows).padStart(7)} rows  ${shape.slice(0, 160)}`,
    );
  }
  log(`  ${(totalMs - sqlMs).toFixed(0).padStart(7)} ms outside SQL (parse, reconcile, build statements)`);
  // The three costliest data statements, explained with their last call's parameters.
  const heavy = rows.filter(([shape]) => /^(insert|update|select|delete) /i.test(shape)).slice(0, 3);
  for (const [shape, s] of heavy) {
    log(`${pass}: EXPLAIN ANALYZE (rolled back) of ${shape.slice(0, 60)}…`);
    try {
      for (const line of await explainAnalyze(url, tenantId, APP_ROLE, s)) log(`  ${line}`);
    } catch (err) {
      log(`  cannot explain: ${describeError(err)}`);
    }
  }
}

/**
 * `--what-if-analyze`: fresh statistics while a tenant fills up. ANALYZE (as the owner) of the tables
 * the ingest looks up, after calls 1, 2, 4, 8, … of each pass, counted in the pass's time. Without it, a
 * new tenant's lookups are planned on statistics from before its devices existed (autovacuum's analyze
 * comes later): hash joins that read every device of the tenant in each batch.
 */
function analyzeWhileGrowing(db: Database): (i: number) => Promise<void> {
  return async (i) => {
    const n = i + 1;
    if ((n & (n - 1)) === 0) await db.exec("analyze devices, device_identifiers, device_alias_states");
  };
}

interface IngestFigures {
  readonly pass1Rate: number;
  readonly ok: boolean;
}

async function runIngest(
  bench: BenchDatabase,
  args: Args,
  prefix: string,
  data: Dataset,
): Promise<IngestFigures> {
  const db = bench.db;
  const tenantId = await createTenant(db, "bench-ingest");
  const prof = args.profile && bench.url !== undefined ? profiler(bench.url) : undefined;
  if (args.profile && prof === undefined) log("--profile needs PostgreSQL; ignored");
  const orm: Orm = prof?.orm ?? db.orm;
  const kernel = new Kernel({ orm, resources: inventoryResources, logger: silentLogger });
  const ingest = new DeviceIngest({
    kernel,
    logger: silentLogger,
    ...(args.cache ? { cache: new IdentityCache() } : {}),
  });
  const actor: Actor = args.actor === "system" ? systemActor("bench-ingest") : user(tenantId, "operator");
  const ctx: ActionContext = args.actor === "system" ? { actor, tenantId } : { actor };
  try {
    report(`${prefix}ingest_true_devices`, data.trueDevices, "count", 0);
    report(`${prefix}ingest_batch_size`, DEFAULT_BATCH_SIZE, "updates", 0);
    report(`${prefix}ingest_identity_cache`, args.cache ? 1 : 0, "bool", 0);
    report(`${prefix}ingest_twins_may_share_a_batch`, args.separateTwins ? 0 : 1, "bool", 0);
    report(`${prefix}ingest_what_if_analyze`, args.whatIfAnalyze ? 1 : 0, "bool", 0);
    let ok = true;
    let pass1Rate = Number.NaN;
    for (const [pass, rows] of [
      ["pass1", data.pass1],
      ["pass2", data.pass2],
    ] as const) {
      log(`${pass}: ${rows.length} updates as ${args.actor}`);
      prof?.reset();
      let fed: Fed;
      const cpu0 = process.cpuUsage();
      try {
        fed = await feed(
          ingest,
          ctx,
          rows,
          DEFAULT_BATCH_SIZE,
          (n) => log(`${pass}: ${n} done`),
          args.whatIfAnalyze ? analyzeWhileGrowing(db) : undefined,
        );
      } catch (err) {
        // Reported, not thrown: the COPY ceiling and the list are still measured.
        log(`${pass}: the ingest failed: ${describeError(err)}`);
        report(`${prefix}ingest_failed_in_${pass}`, 1, "bool", 0);
        report(`${prefix}ingest_canonical_count_ok`, 0, "bool", 0);
        process.exitCode = 1;
        return { pass1Rate, ok: false };
      }
      const cpu = process.cpuUsage(cpu0);
      const rate = reportPass(prefix, pass, fed, rows.length);
      // How much of the wall time this process spent on its CPUs (the rest: the database, or waiting).
      report(
        `${prefix}ingest_${pass}_node_cpu_share`,
        ((cpu.user + cpu.system) / 1000 / fed.ms) * 100,
        "%",
        1,
      );
      if (args.profile) report(`${prefix}profile_${pass}_parse_per_update`, parseCostUs(rows), "us", 1);
      if (pass === "pass1") pass1Rate = rate;
      const count = await canonicalCount(db, tenantId);
      report(`${prefix}ingest_${pass}_canonical_count`, count, "count", 0);
      ok &&= count === data.trueDevices;
      if (pass === "pass2") {
        const moved = await devicesOn(db, tenantId, data.churnedIps);
        report(`${prefix}ingest_pass2_devices_moved`, data.churned, "count", 0);
        report(`${prefix}ingest_pass2_devices_on_new_ip`, moved, "count", 0);
        report(`${prefix}ingest_pass2_moves_ok`, moved === data.churned ? 1 : 0, "bool", 0);
      }
      if (prof !== undefined && bench.url !== undefined)
        await reportProfile(prefix, pass, prof, fed.ms, bench.url, tenantId);
    }
    report(`${prefix}ingest_canonical_count_ok`, ok ? 1 : 0, "bool", 0);
    if (!ok) log(`canonical count differs from the ${data.trueDevices} true devices`);
    return { pass1Rate, ok };
  } finally {
    await prof?.close();
  }
}

export const ingestBench: Benchmark = {
  description:
    "DIRE ingest: 50k Armis + NetBox updates (two passes, 5% IP churn) vs a raw COPY, and the device list at 1M devices, on PostgreSQL (--embedded: PGlite)",
  async run(argv) {
    const args = parseArgs(argv);
    const prefix = args.embedded ? "embedded_" : "";
    const started = performance.now();
    const bench = await openBenchDatabase(args.embedded, log);
    // These machines are shared: the load beside the figures says how much to trust them.
    report(`${prefix}host_load_1m_at_start`, loadavg()[0] ?? Number.NaN, "load");
    try {
      await migrateUp(bench.db);
      if (!args.skipIngest) {
        let t0 = performance.now();
        const data = generate({
          updates: args.updates,
          seed: args.seed,
          ...(args.separateTwins ? { separateTwins: DEFAULT_BATCH_SIZE } : {}),
        });
        log(
          `generated ${data.pass1.length} updates per pass in ${(performance.now() - t0).toFixed(0)} ms: ` +
            `${data.armis} Armis, ${data.netboxOverlap} NetBox twins (${data.netboxOverlapWithMac} with the MAC), ` +
            `${data.netboxOnly} NetBox-only; ${data.trueDevices} true devices, ${data.churned} moving in pass 2`,
        );
        const ingest = await runIngest(bench, args, prefix, data);

        log(`COPY ceiling: ${data.pass1.length} rows, ${COPY_ROUNDS} rounds`);
        t0 = performance.now();
        const copyTenant = await createTenant(bench.db, "bench-copy");
        const copyMs = median(await copyCeiling(bench.db, bench.url, copyTenant, data.pass1, COPY_ROUNDS));
        const copyRate = data.pass1.length / (copyMs / 1000);
        report(`${prefix}copy_rows`, data.pass1.length, "count", 0);
        report(`${prefix}copy_seconds_median`, copyMs / 1000, "s", 3);
        report(`${prefix}copy_rows_per_s`, copyRate, "rows/s", 0);
        const share = ingest.pass1Rate / copyRate;
        report(`${prefix}ingest_vs_copy_ratio`, share, "x", 3);
        report(`${prefix}target_ingest_updates_per_s_min`, TARGET_UPDATES_PER_S, "updates/s", 0);
        report(`${prefix}target_ingest_vs_copy_ratio_min`, TARGET_COPY_SHARE, "x");
        const met = ingest.ok && ingest.pass1Rate >= TARGET_UPDATES_PER_S && share >= TARGET_COPY_SHARE;
        report(`${prefix}target_ingest_met`, met ? 1 : 0, "bool", 0);
        log(
          `pass 1 at ${ingest.pass1Rate.toFixed(0)} updates/s, ${(share * 100).toFixed(1)} % of COPY: ` +
            `${met ? "meets" : "MISSES"} the target (≥ ${TARGET_UPDATES_PER_S} updates/s, ≥ ${TARGET_COPY_SHARE * 100} % of COPY, exact count)` +
            (args.embedded ? " (the target is stated for PostgreSQL)" : ""),
        );
      }

      if (!args.skipList) {
        const listTenant = await createTenant(bench.db, "bench-list");
        log(`loading ${args.devices} devices into one tenant (${args.embedded ? "PGlite" : "PostgreSQL"})`);
        const loaded = await loadDevices(bench.db, listTenant, args.devices);
        report(`${prefix}list_devices`, args.devices, "count", 0);
        report(`${prefix}list_load_insert_select_generate_series`, loaded.loadMs / 1000, "s");
        report(`${prefix}list_load_vacuum_analyze`, loaded.analyzeMs / 1000, "s");
        report(
          `${prefix}list_filtered_matching_devices`,
          await filteredMatches(bench.db, listTenant),
          "count",
          0,
        );
        if (args.explain) {
          const x = await explainLists(bench.db, bench.url, listTenant, (l) => log(l));
          for (const [name, indexes] of x.indexes)
            log(
              `${name.replace(/_/g, " ")} list uses: ${indexes.length > 0 ? indexes.join(", ") : "no index"}`,
            );
          report(`${prefix}whatif_list_filtered_statement_p50`, p50(x.filteredMs), "ms");
          report(`${prefix}whatif_list_filtered_with_prefix_range_p50`, p50(x.prefixRangeMs), "ms");
        }
        log(`measuring the lists: ${args.runs} interleaved calls each`);
        const f = await measureLists(bench.db, listTenant, args.runs);
        report(`${prefix}list_first_page_p50`, p50(f.firstPageMs), "ms");
        report(`${prefix}list_first_page_p95`, p95(f.firstPageMs), "ms");
        report(`${prefix}list_filtered_p50`, p50(f.filteredMs), "ms");
        report(`${prefix}list_filtered_p95`, p95(f.filteredMs), "ms");
        report(`${prefix}list_page_rows`, f.firstPageRows, "count", 0);
        report(`${prefix}list_runs`, args.runs, "count", 0);
        const met = Math.max(p50(f.firstPageMs), p50(f.filteredMs)) <= TARGET_LIST_P50_MS;
        report(`${prefix}target_list_p50_max`, TARGET_LIST_P50_MS, "ms", 0);
        report(`${prefix}target_list_met`, met ? 1 : 0, "bool", 0);
      }
    } finally {
      await bench.dispose();
      report(`${prefix}host_load_1m_at_end`, loadavg()[0] ?? Number.NaN, "load");
      report(`${prefix}bench_wall_time`, (performance.now() - started) / 1000, "s", 1);
    }
  },
};
