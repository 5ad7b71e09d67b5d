import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { acquireDataDirLock } from "./data-dir-lock.js";
import * as schema from "./schema.js";
import type { Database, Orm, QueryResult, SqlExecutor } from "./types.js";

interface PgliteLike {
  query<Row>(text: string, params?: unknown[]): Promise<{ rows: Row[]; affectedRows?: number }>;
  exec(text: string): Promise<unknown>;
}

function executor(client: PgliteLike): SqlExecutor {
  return {
    async query<Row>(text: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
      const res = await client.query<Row>(text, [...params]);
      // PGlite reports affectedRows only for writes; a SELECT's count is its rows.
      return { rows: res.rows, rowCount: res.rows.length > 0 ? res.rows.length : (res.affectedRows ?? 0) };
    },
    async exec(text: string): Promise<void> {
      await client.exec(text);
    },
  };
}

export interface EmbeddedOptions {
  /** Data directory; `memory://` keeps everything in memory (tests). */
  readonly dataDir: string | "memory://";
}

/**
 * Embedded PostgreSQL (PGlite, WebAssembly) stored in the data dir. PGlite is one connection: it
 * serialises queries and its `transaction()` holds a mutex, so concurrent callers never interleave
 * inside one another's transaction. A lock file keeps a second process off the same files.
 */
export async function openEmbedded(options: EmbeddedOptions): Promise<Database> {
  let release = (): void => {};
  let client: PGlite;
  if (options.dataDir === "memory://") {
    client = await PGlite.create();
  } else {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    release = acquireDataDirLock(options.dataDir);
    try {
      client = await PGlite.create(join(options.dataDir, "pgdata"));
    } catch (err) {
      release();
      throw err;
    }
  }
  const orm = drizzle(client, { schema }) as unknown as Orm;
  const base = executor(client);
  let closed = false;
  return {
    kind: "embedded",
    orm,
    ...base,
    transaction: (fn) => client.transaction((tx) => fn(executor(tx))),
    async ping() {
      await client.query("select 1");
    },
    async close() {
      if (closed) return;
      closed = true;
      await client.close();
      release();
    },
  };
}
