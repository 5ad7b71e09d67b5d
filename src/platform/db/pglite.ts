import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
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

/**
 * PostgreSQL's default 128 MB of shared buffers is sized for a server; inside one Node process beside
 * the APIs, 32 MB keeps the idle footprint small and is plenty for an embedded install.
 */
const EMBEDDED_POSTGRESQL_CONF = "shared_buffers = 32MB";

/**
 * Creating a new cluster (initdb) grows PGlite's WebAssembly memory to several hundred MB, which the
 * process never gives back. Doing it once in a short-lived child process keeps the long-running
 * process at its steady-state size from the first start on.
 */
async function initDataDirInChild(pgdata: string): Promise<void> {
  const pgliteUrl = import.meta.resolve("@electric-sql/pglite");
  const script = [
    "const [url, dir, conf] = process.argv.slice(1);",
    "const { PGlite } = await import(url);",
    "const db = await PGlite.create(dir, { postgresqlconf: conf });",
    "await db.close();",
  ].join("\n");
  await promisify(execFile)(
    process.execPath,
    ["--input-type=module", "-e", script, pgliteUrl, pgdata, EMBEDDED_POSTGRESQL_CONF],
    { timeout: 120_000 },
  );
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
    client = await PGlite.create({ postgresqlconf: EMBEDDED_POSTGRESQL_CONF });
  } else {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    release = acquireDataDirLock(options.dataDir);
    const pgdata = join(options.dataDir, "pgdata");
    try {
      if (!existsSync(join(pgdata, "PG_VERSION"))) await initDataDirInChild(pgdata);
      client = await PGlite.create(pgdata, { postgresqlconf: EMBEDDED_POSTGRESQL_CONF });
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
