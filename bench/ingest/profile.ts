/**
 * `--profile` (PostgreSQL only): where the ingest's time goes, statement by statement, measured on the
 * client (pg_stat_statements is not available here). The ingest then runs over a drizzle instance of
 * its own whose pool times every `client.query` from call to result (the round trip included);
 * statements are grouped by their text with parameter lists and literals folded.
 */
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "../../src/platform/db/schema.js";
import type { Orm } from "../../src/platform/db/types.js";

export interface StatementStats {
  calls: number;
  ms: number;
  rows: number;
  /** The last call's text and parameters, to EXPLAIN it. */
  text: string;
  values: unknown[];
}

export interface Profiler {
  readonly orm: Orm;
  readonly stats: Map<string, StatementStats>;
  reset(): void;
  close(): Promise<void>;
}

/** `insert … values ($1, $2, …), ($9, …)` → `insert … values (…)`: one shape per statement. */
export function statementShape(text: string): string {
  return text
    .replace(/\s+/g, " ")
    .replace(/\$\d+(?:::[\w[\]]+)?/g, "$")
    .replace(/\(\$(?:, \$)*\)(?:, \(\$(?:, \$)*\))*/g, "(…)")
    .replace(/'[^']*'/g, "'…'")
    .trim();
}

type Query = (...args: unknown[]) => unknown;

export function profiler(url: string, poolMax = 4): Profiler {
  const stats = new Map<string, StatementStats>();
  const pool = new pg.Pool({ connectionString: url, max: poolMax, application_name: "sonde-bench-profile" });
  pool.on("error", () => {});
  pool.on("connect", (client) => {
    const original = client.query.bind(client) as Query;
    const timed: Query = (...args) => {
      const first = args[0];
      const values: unknown[] = Array.isArray(args[1])
        ? (args[1] as unknown[])
        : typeof first === "object" && first !== null && "values" in first
          ? ((first as { values?: unknown[] }).values ?? [])
          : [];
      const text =
        typeof first === "string"
          ? first
          : typeof first === "object" && first !== null && "text" in first
            ? String((first as { text: unknown }).text)
            : undefined;
      const t0 = performance.now();
      const record = (res: unknown) => {
        if (text === undefined) return;
        const key = statementShape(text);
        const s = stats.get(key) ?? { calls: 0, ms: 0, rows: 0, text, values };
        s.text = text;
        s.values = values;
        s.calls++;
        s.ms += performance.now() - t0;
        const rowCount = (res as { rowCount?: number | null } | undefined)?.rowCount;
        s.rows += typeof rowCount === "number" ? rowCount : 0;
        stats.set(key, s);
      };
      // pool.query passes a callback; drizzle's transactions await a promise.
      const last = args.at(-1);
      if (typeof last === "function") {
        const callback = last as (err: unknown, res: unknown) => void;
        return original(...args.slice(0, -1), (err: unknown, res: unknown) => {
          if (err === null || err === undefined) record(res);
          callback(err, res);
        });
      }
      const result = original(...args);
      if (!(result instanceof Promise)) return result;
      return result.then((res: unknown) => {
        record(res);
        return res;
      });
    };
    (client as unknown as { query: Query }).query = timed;
  });
  return {
    orm: drizzle(pool, { schema }) as unknown as Orm,
    stats,
    reset: () => stats.clear(),
    close: () => pool.end(),
  };
}

/**
 * EXPLAIN ANALYZE of a recorded statement in the tenant's scope as the application role, rolled back
 * (a write is executed by ANALYZE, then undone). Returns the plan's lines.
 */
export async function explainAnalyze(
  url: string,
  tenantId: string,
  role: string,
  s: StatementStats,
): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("begin");
    await client.query("select set_config('role', $1, true), set_config('app.tenant_id', $2, true)", [
      role,
      tenantId,
    ]);
    const plan = await client.query<Record<string, string>>(
      `explain (analyze, buffers, costs off) ${s.text}`,
      s.values,
    );
    return plan.rows.map((r) => String(Object.values(r)[0]));
  } finally {
    await client.query("rollback").catch(() => {});
    await client.end();
  }
}
