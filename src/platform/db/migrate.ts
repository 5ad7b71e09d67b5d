import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { z } from "zod";
import { SondeError } from "../../lib/errors.js";
import { errorReason } from "./retry.js";
import type { Database } from "./types.js";

/**
 * Sonde's migration runner. drizzle-kit writes the versioned SQL (`npm run db:generate`) into
 * `migrations/`, with a journal; this runner applies it. It exists, instead of drizzle's own migrator,
 * for three things that one lacks: a transaction-scoped advisory lock so that several core instances
 * starting together apply each migration once, checksums that refuse to run against an edited
 * migration, and down migrations (`migrations/down/<tag>.sql`) for `sonde migrate down`.
 */

export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../../migrations");

// An arbitrary constant naming Sonde's migration lock among the database's advisory locks.
const MIGRATION_LOCK_KEY = 7_347_101;

const journalSchema = z.object({
  entries: z.array(z.object({ idx: z.number().int(), tag: z.string().min(1) })),
});

export interface Migration {
  readonly idx: number;
  readonly tag: string;
  readonly up: string;
  readonly down: string | undefined;
  readonly hash: string;
}

export interface MigrationStatus {
  readonly tag: string;
  readonly applied: boolean;
  readonly appliedAt: Date | null;
  readonly reversible: boolean;
}

export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const journalPath = join(dir, "meta", "_journal.json");
  if (!existsSync(journalPath)) {
    throw new SondeError("SONDE_MIGRATION_FAILED", `no migration journal at ${journalPath}`);
  }
  const journal = journalSchema.parse(JSON.parse(readFileSync(journalPath, "utf8")));
  return journal.entries
    .toSorted((a, b) => a.idx - b.idx)
    .map(({ idx, tag }) => {
      const up = readFileSync(join(dir, `${tag}.sql`), "utf8");
      const downPath = join(dir, "down", `${tag}.sql`);
      const down = existsSync(downPath) ? readFileSync(downPath, "utf8") : undefined;
      return { idx, tag, up, down, hash: createHash("sha256").update(up).digest("hex") };
    });
}

const ENSURE_TABLE = `
  create table if not exists sonde_migrations (
    tag text primary key,
    idx integer not null,
    hash text not null,
    applied_at timestamptz not null default now()
  )`;

interface AppliedRow {
  tag: string;
  hash: string;
  applied_at: Date;
}

async function applied(db: Database): Promise<Map<string, AppliedRow>> {
  // Under the lock: concurrent `create table if not exists` can otherwise collide in pg_type.
  const rows = await db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await tx.exec(ENSURE_TABLE);
    return (await tx.query<AppliedRow>("select tag, hash, applied_at from sonde_migrations order by idx"))
      .rows;
  });
  return new Map(rows.map((r) => [r.tag, r]));
}

function verify(migrations: readonly Migration[], done: Map<string, AppliedRow>): void {
  const known = new Map(migrations.map((m) => [m.tag, m]));
  for (const row of done.values()) {
    const m = known.get(row.tag);
    if (m === undefined) {
      throw new SondeError(
        "SONDE_MIGRATION_FAILED",
        `the database has migration ${row.tag}, which this version of Sonde does not know (is it older than the database?)`,
      );
    }
    if (m.hash !== row.hash) {
      throw new SondeError("SONDE_MIGRATION_FAILED", `migration ${row.tag} was edited after it was applied`);
    }
  }
}

export async function migrationStatus(db: Database, dir?: string): Promise<MigrationStatus[]> {
  const migrations = loadMigrations(dir);
  const done = await applied(db);
  return migrations.map((m) => ({
    tag: m.tag,
    applied: done.has(m.tag),
    appliedAt: done.get(m.tag)?.applied_at ?? null,
    reversible: m.down !== undefined,
  }));
}

/** Applies every pending migration, each in its own transaction. Returns the tags applied. */
export async function migrateUp(
  db: Database,
  options: { dir?: string; logger?: Logger } = {},
): Promise<string[]> {
  const migrations = loadMigrations(options.dir);
  verify(migrations, await applied(db));
  const ran: string[] = [];
  for (const m of migrations) {
    const didRun = await db.transaction(async (tx) => {
      await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
      // Another instance may have applied it while we waited for the lock.
      const exists = await tx.query("select 1 from sonde_migrations where tag = $1", [m.tag]);
      if (exists.rows.length > 0) return false;
      try {
        await tx.exec(m.up);
      } catch (err) {
        throw new SondeError("SONDE_MIGRATION_FAILED", `migration ${m.tag} failed: ${errorReason(err)}`, {
          cause: err,
        });
      }
      await tx.query("insert into sonde_migrations (tag, idx, hash) values ($1, $2, $3)", [
        m.tag,
        m.idx,
        m.hash,
      ]);
      return true;
    });
    if (didRun) {
      ran.push(m.tag);
      options.logger?.info({ migration: m.tag }, "migration applied");
    }
  }
  return ran;
}

/** Reverts the last `steps` applied migrations, newest first. Refuses when one has no down file. */
export async function migrateDown(
  db: Database,
  options: { steps: number; dir?: string; logger?: Logger },
): Promise<string[]> {
  const migrations = loadMigrations(options.dir);
  const done = await applied(db);
  verify(migrations, done);
  const targets = migrations
    .filter((m) => done.has(m.tag))
    .reverse()
    .slice(0, options.steps);
  const irreversible = targets.find((m) => m.down === undefined);
  if (irreversible !== undefined) {
    throw new SondeError("SONDE_MIGRATION_FAILED", `migration ${irreversible.tag} has no down migration`);
  }
  const reverted: string[] = [];
  for (const m of targets) {
    await db.transaction(async (tx) => {
      await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
      await tx.exec(m.down ?? "");
      await tx.query("delete from sonde_migrations where tag = $1", [m.tag]);
    });
    reverted.push(m.tag);
    options.logger?.info({ migration: m.tag }, "migration reverted");
  }
  return reverted;
}
