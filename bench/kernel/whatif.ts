/**
 * `--what-if`: measures a change the kernel could make, without changing it, on the loaded database:
 * one round trip for BEGIN and the scope — `begin; select set_config(…)` sent as one simple-protocol
 * query on a pooled client (values inlined), instead of drizzle's `begin` followed by a parameterised
 * `select set_config(…)`. The real kernel runs on it (see foldedOrm). PostgreSQL only.
 *
 * (Its first subject, a tenant policy the planner can use an index for, is now the product's: each
 * role has its own policy, src/kernel/tenancy/rls.ts.)
 */
import { and, asc, desc, eq, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { PgDialect } from "drizzle-orm/pg-core";
import pg from "pg";
import { Kernel } from "../../src/kernel/kernel.js";
import { inScope } from "../../src/kernel/tenancy/transaction.js";
import type { Database, Orm } from "../../src/platform/db/types.js";
import { silentLogger } from "./database.js";
import { type Comparison, compare, type Contender, type MeasureOptions } from "./measure.js";
import { benchItem, benchItems, user } from "./resource.js";
import { LIST_SIZE } from "./scenarios.js";

const LITERAL = /^[A-Za-z0-9_-]*$/;

/**
 * A stand-in for the drizzle instance whose transactions send BEGIN together with their first
 * statement, which under `inScope` is the scope (`begin; select set_config(…)` as one simple-protocol
 * query, parameters inlined: they are a role name, a UUID and on/off, checked). Everything else is
 * plain drizzle over a pooled client, so the kernel runs on it unchanged. Transactions must start with
 * `execute` (as `inScope` does).
 */
export function foldedOrm(url: string): { orm: Orm; close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on("error", () => {});
  const base = drizzle(pool) as unknown as Orm;
  const dialect = new PgDialect();
  const perClient = new WeakMap<pg.PoolClient, Orm>();
  const transaction = async <T>(fn: (tx: Orm) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    let orm = perClient.get(client);
    if (orm === undefined) {
      orm = drizzle(client) as unknown as Orm;
      perClient.set(client, orm);
    }
    let begun = false;
    const target = orm;
    const tx = new Proxy(target, {
      get(t, prop) {
        const value: unknown = Reflect.get(t, prop);
        if (prop === "execute" && !begun) {
          return async (query: SQL) => {
            const { sql: text, params } = dialect.sqlToQuery(query);
            const inlined = text.replace(/\$(\d+)/g, (_, i: string) => {
              const v = String(params[Number(i) - 1]);
              if (!LITERAL.test(v)) throw new Error("folded BEGIN inlines only plain literals");
              return `'${v}'`;
            });
            begun = true;
            return client.query(`begin; ${inlined}`);
          };
        }
        if (!begun && typeof value === "function")
          throw new Error("a folded transaction starts with execute");
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(t) : value;
      },
    });
    try {
      const result = await fn(tx);
      await client.query("commit");
      return result;
    } catch (err) {
      await client.query("rollback").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  };
  const orm = new Proxy(base, {
    get(t, prop) {
      if (prop === "transaction") return transaction;
      const value: unknown = Reflect.get(t, prop);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
  return { orm, close: () => pool.end() };
}

export interface WhatIfFigures {
  readonly list: Comparison;
  readonly empty: Comparison | undefined;
}

export async function runWhatIf(
  db: Database,
  url: string | undefined,
  tenant: string,
  measure: Partial<MeasureOptions> = {},
): Promise<WhatIfFigures> {
  const orm = db.orm;
  const kernel = new Kernel({ orm, resources: [benchItem], logger: silentLogger });
  const items = kernel.resource("bench_item");
  const viewer = { actor: user(tenant, "viewer") };
  const scope = { tenantId: tenant, bypass: false };
  const columns = {
    id: benchItems.id,
    name: benchItems.name,
    visibility: benchItems.visibility,
    priority: benchItems.priority,
    created_at: benchItems.created_at,
  };
  const listOf = (tx: Orm | Parameters<Parameters<Orm["transaction"]>[0]>[0], withTenant: boolean) =>
    tx
      .select(columns)
      .from(benchItems)
      .where(
        withTenant
          ? and(eq(benchItems.tenant_id, tenant), eq(benchItems.visibility, "public"))
          : eq(benchItems.visibility, "public"),
      )
      .orderBy(desc(benchItems.created_at), asc(benchItems.id))
      .limit(LIST_SIZE);
  const listQuery = {
    sort: [{ field: "created_at", direction: "desc" }] as const,
    page: { size: LIST_SIZE },
  };
  const folded = url === undefined ? undefined : foldedOrm(url);
  const foldedKernel =
    folded === undefined
      ? undefined
      : new Kernel({ orm: folded.orm, resources: [benchItem], logger: silentLogger });
  try {
    const contenders: Contender[] = [
      { name: "drizzle", run: () => orm.transaction((tx) => listOf(tx, true)) },
      { name: "kernel", run: () => kernel.list(items, viewer, listQuery) },
      { name: "rls_only_tenant", run: () => inScope(orm, scope, (tx) => listOf(tx, false)) },
    ];
    if (folded !== undefined && foldedKernel !== undefined) {
      contenders.push(
        { name: "folded_begin_kernel", run: () => foldedKernel.list(items, viewer, listQuery) },
        {
          name: "folded_begin_rls_only_tenant",
          run: () => inScope(folded.orm, scope, (tx) => listOf(tx, false)),
        },
      );
    }
    const list = await compare(contenders, { budgetMs: 12_000, ...measure });
    const empty =
      folded === undefined
        ? undefined
        : await compare(
            [
              { name: "plain_tx", run: () => orm.transaction(async () => undefined) },
              { name: "in_scope", run: () => inScope(orm, scope, async () => undefined) },
              { name: "folded", run: () => inScope(folded.orm, scope, async () => undefined) },
            ],
            { budgetMs: 4_000, ...measure },
          );
    return { list, empty };
  } finally {
    await folded?.close();
  }
}
