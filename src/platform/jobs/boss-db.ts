import type PgBoss from "pg-boss";
import type { Database } from "../db/types.js";
import { hasSeveralStatements } from "./sql-text.js";

/**
 * pg-boss's `db` option backed by Sonde's `Database`, so that embedded PGlite and PostgreSQL run the
 * same job code.
 *
 * What pg-boss sends, and how each is executed:
 * - one parameterised statement (almost everything): `db.query(text, values)`. PGlite serialises JS
 *   arrays for `$n::uuid[]`, objects and strings for `json`/`jsonb`, numbers for text parameters and
 *   `undefined` as NULL, as node-postgres does (checked by the job suite on both adapters).
 * - one statement without parameters (`getQueues`, `getSchedules`, version checks): `db.query(text)`.
 * - several statements without parameters (schema creation, migrations, maintenance — each wrapped
 *   by pg-boss in `BEGIN; … advisory lock …; COMMIT;`): PGlite's `query()` rejects several
 *   statements, so they go through `exec`, inside `db.transaction()`. The transaction is not for
 *   atomicity (pg-boss's own BEGIN/COMMIT provide it; the inner BEGIN and the outer COMMIT only warn)
 *   but for recovery: when a statement fails, PostgreSQL and PGlite both leave the session in an
 *   aborted transaction, and only a ROLLBACK on the same connection clears it. `transaction()` issues
 *   that ROLLBACK; without it, a pooled connection (or PGlite's only connection) would stay unusable.
 *   pg-boss reads no rows from these scripts, so `rows` is empty.
 *
 * It counts statements in flight, so that `stop()` can wait for writes pg-boss issues without awaiting
 * them (its cron worker completes jobs fire-and-forget) before the caller closes the database.
 */
export interface BossDb extends PgBoss.Db {
  executeSql(text: string, values?: readonly unknown[]): Promise<{ rows: unknown[] }>;
  /** Statements currently running. */
  readonly pending: number;
}

export function bossDb(db: Database): BossDb {
  let pending = 0;
  async function run(text: string, values: readonly unknown[] | undefined): Promise<{ rows: unknown[] }> {
    if ((values === undefined || values.length === 0) && hasSeveralStatements(text)) {
      await db.transaction((tx) => tx.exec(text));
      return { rows: [] };
    }
    const result = await db.query(text, values ?? []);
    return { rows: result.rows };
  }
  return {
    get pending() {
      return pending;
    },
    async executeSql(text, values) {
      pending += 1;
      try {
        return await run(text, values);
      } finally {
        pending -= 1;
      }
    },
  };
}
