import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "./schema.js";
import type { Database, Orm, QueryResult, SqlExecutor } from "./types.js";

type Queryable = Pick<pg.Pool, "query"> | Pick<pg.PoolClient, "query">;

function executor(client: Queryable): SqlExecutor {
  return {
    async query<Row>(text: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      const res = await client.query(text, [...params]);
      return { rows: res.rows as Row[], rowCount: res.rowCount ?? res.rows.length };
    },
    async exec(text: string): Promise<void> {
      // Without parameters node-postgres uses the simple protocol, which accepts several statements.
      await client.query(text);
    },
  };
}

export interface PostgresOptions {
  readonly url: string;
  readonly poolMax: number;
  readonly applicationName: string;
  readonly connectTimeoutMs?: number;
}

/** PostgreSQL through a node-postgres pool. The pool connects lazily; `ping()` proves it works. */
export function openPostgres(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    application_name: options.applicationName,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection emits here; without a listener it would crash the process.
  pool.on("error", () => {});
  const orm = drizzle(pool, { schema }) as unknown as Orm;
  let closed = false;
  return {
    kind: "postgres",
    orm,
    ...executor(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query("begin");
        const result = await fn(executor(client));
        await client.query("commit");
        return result;
      } catch (err) {
        await client.query("rollback").catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async ping() {
      await pool.query("select 1");
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
