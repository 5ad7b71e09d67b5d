import { randomBytes } from "node:crypto";
import pg from "pg";
import { pino } from "pino";
import { openDatabase } from "../../src/platform/db/index.js";
import type { Database } from "../../src/platform/db/types.js";
import { TEST_DATABASE_URL } from "./services.js";

export const silentLogger = pino({ level: "silent" });

export interface DatabaseTarget {
  readonly name: "embedded" | "postgres";
  /** A fresh, empty database of this kind. */
  open(): Promise<TestDatabase>;
}

export interface TestDatabase {
  readonly db: Database;
  /** The URL of the fresh PostgreSQL database (postgres target only). */
  readonly url: string | undefined;
  /** Closes and, for PostgreSQL, drops the database (kept when SONDE_TEST_KEEP_DB=1, for inspection). */
  dispose(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty PostgreSQL database with a unique name; each test file gets its own. */
export async function createTestPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `sonde_test_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      if (process.env.SONDE_TEST_KEEP_DB === "1") return;
      await admin((c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

export const embeddedTarget: DatabaseTarget = {
  name: "embedded",
  async open() {
    const db = await openDatabase({
      url: undefined,
      dataDir: "memory://",
      poolMax: 1,
      connectAttempts: 1,
      applicationName: "sonde-test",
      logger: silentLogger,
    });
    return { db, url: undefined, dispose: () => db.close() };
  },
};

export const postgresTarget: DatabaseTarget = {
  name: "postgres",
  async open() {
    const fresh = await createTestPostgresDatabase();
    const db = await openDatabase({
      url: fresh.url,
      dataDir: "unused",
      poolMax: 5,
      connectAttempts: 1,
      applicationName: "sonde-test",
      logger: silentLogger,
    });
    return {
      db,
      url: fresh.url,
      async dispose() {
        await db.close();
        await fresh.drop();
      },
    };
  },
};
