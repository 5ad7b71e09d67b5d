import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type * as schema from "./schema.js";

/**
 * Terminology:
 * - Database: Sonde's handle on its storage, the same interface over embedded PGlite and PostgreSQL.
 * - orm: the drizzle instance for typed queries.
 * - query: one parameterised statement; exec: several statements without parameters (migrations).
 * - SqlExecutor: the smallest surface, what pg-boss and the migration runner need.
 */
export type Schema = typeof schema;
export type Orm = PgDatabase<PgQueryResultHKT, Schema>;

export interface QueryResult<Row> {
  readonly rows: Row[];
  readonly rowCount: number;
}

export interface SqlExecutor {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** Runs several statements separated by semicolons, without parameters. */
  exec(text: string): Promise<void>;
}

export interface Database extends SqlExecutor {
  readonly kind: "embedded" | "postgres";
  readonly orm: Orm;
  /** Runs `fn` inside one transaction on one connection; rolls back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Throws when the database cannot answer a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
