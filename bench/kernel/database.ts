/**
 * The benchmark's database: a fresh PostgreSQL database (created on the server that
 * BENCH_DATABASE_URL names, dropped afterwards whatever happens) or an in-memory PGlite, migrated, with
 * tenants and the bench table loaded by `insert … select generate_series`.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { pino } from "pino";
import { tenants } from "../../src/kernel/kernel.schema.js";
import { openDatabase } from "../../src/platform/db/index.js";
import { migrateUp } from "../../src/platform/db/migrate.js";
import type { Database } from "../../src/platform/db/types.js";
import { CREATE_TABLE, INDEX_SQL, loadSql } from "./resource.js";

export const silentLogger = pino({ level: "silent" });

export const DEFAULT_BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";

export interface BenchDatabase {
  readonly db: Database;
  /** The fresh database's URL (PostgreSQL only). */
  readonly url: string | undefined;
  /** Closes and, for PostgreSQL, drops the database. Safe to call twice (both calls wait for it). */
  dispose(): Promise<void>;
}

async function asAdmin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function openBenchPostgres(adminUrl: string): Promise<BenchDatabase> {
  const name = `sonde_bench_${randomBytes(6).toString("hex")}`;
  await asAdmin(adminUrl, (c) => c.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let db: Database | undefined;
  let disposing: Promise<void> | undefined;
  // Memoised: a signal handler and the run's `finally` may both call it; both wait for the drop.
  const dispose = (): Promise<void> =>
    (disposing ??= (async () => {
      await db?.close().catch(() => {});
      await asAdmin(adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`));
    })());
  try {
    db = await openDatabase({
      url: url.toString(),
      dataDir: "unused",
      poolMax: 4,
      connectAttempts: 1,
      applicationName: "sonde-bench",
      logger: silentLogger,
    });
  } catch (err) {
    await dispose();
    throw err;
  }
  return { db, url: url.toString(), dispose };
}

export async function openBenchEmbedded(): Promise<BenchDatabase> {
  const db = await openDatabase({
    url: undefined,
    dataDir: "memory://",
    poolMax: 1,
    connectAttempts: 1,
    applicationName: "sonde-bench",
    logger: silentLogger,
  });
  return { db, url: undefined, dispose: () => db.close() };
}

/**
 * The bench's database as `--embedded` chooses (PostgreSQL at BENCH_DATABASE_URL otherwise), with
 * SIGINT/SIGTERM dropping it on the way out; its `dispose` also removes those handlers.
 */
export async function openBenchDatabase(
  embedded: boolean,
  log: (message: string) => void,
): Promise<BenchDatabase> {
  const bench = embedded
    ? await openBenchEmbedded()
    : await openBenchPostgres(process.env.BENCH_DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL);
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: dropping the bench database`);
    void bench.dispose().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return {
    ...bench,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      return bench.dispose();
    },
  };
}

export interface Loaded {
  readonly tenantIds: readonly string[];
  readonly loadMs: number;
  readonly indexMs: number;
  readonly analyzeMs: number;
}

/** Migrates, creates `tenantCount` tenants and loads `rows` rows spread over them. */
export async function migrateAndLoad(db: Database, rows: number, tenantCount: number): Promise<Loaded> {
  await migrateUp(db);
  const created = await db.orm
    .insert(tenants)
    .values(
      Array.from({ length: tenantCount }, (_, i) => ({
        slug: `bench-${String(i).padStart(2, "0")}`,
        name: `Bench ${i}`,
      })),
    )
    .returning({ id: tenants.id, slug: tenants.slug });
  const tenantIds = created.toSorted((a, b) => a.slug.localeCompare(b.slug)).map((t) => t.id);
  await db.exec(CREATE_TABLE);
  let t0 = performance.now();
  await db.exec(loadSql(rows));
  const loadMs = performance.now() - t0;
  t0 = performance.now();
  await db.exec(INDEX_SQL);
  const indexMs = performance.now() - t0;
  t0 = performance.now();
  // Alone: VACUUM cannot run inside the implicit transaction of a multi-statement query.
  await db.exec("vacuum (analyze) bench_items");
  await db.exec("analyze tenants");
  const analyzeMs = performance.now() - t0;
  return { tenantIds, loadMs, indexMs, analyzeMs };
}
