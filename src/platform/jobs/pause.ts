import type { Logger } from "pino";
import type { Database } from "../db/types.js";
import { retryConcurrentCreation } from "./races.js";

/**
 * Paused queues. pg-boss 10 has no pause, so Sonde keeps one flag per queue in a table of its own in
 * the job schema (`<schema>.sonde_queue_state`, created by `start()`, never by a drizzle migration: the
 * job adapter owns its schema). The table is shared by every process on the database, so a pause holds
 * for all of them; sends are not affected (a paused queue keeps accepting jobs).
 *
 * Workers ask before every fetch, but not the database each time: they read a copy of the paused set,
 * refreshed by one query for all queues when it is older than `maxAgeMs`. So a pause made in this
 * process holds for every fetch that starts after `set()` resolves; one made by another process holds
 * here within `maxAgeMs`. Jobs already fetched run to the end: pausing stops fetching, it aborts nothing.
 */
export interface PauseState {
  /** Creates the table (idempotent, safe when several processes start at once). */
  install(): Promise<void>;
  set(queue: string, paused: boolean): Promise<void>;
  /** From the database, not the cached copy. */
  isPaused(queue: string): Promise<boolean>;
  /** Every paused queue, from the database. */
  paused(): Promise<ReadonlySet<string>>;
  /** For workers: whether to skip this fetch (the cached copy, refreshed when stale). */
  holds(queue: string): Promise<boolean>;
}

export interface PauseStateDeps {
  readonly db: Database;
  /** Validated by the caller (`[a-z_][a-z0-9_]*`), hence interpolated. */
  readonly schema: string;
  readonly logger: Logger;
  readonly maxAgeMs: number;
}

export function createPauseState(deps: PauseStateDeps): PauseState {
  const { db, logger, maxAgeMs } = deps;
  const table = `${deps.schema}.sonde_queue_state`;
  let cache: { readonly at: number; readonly paused: ReadonlySet<string> } | undefined;
  let refreshing: { readonly generation: number; readonly done: Promise<ReadonlySet<string>> } | undefined;
  // Bumped by every local set(): a refresh that started before it may have read the old flags.
  let generation = 0;

  async function paused(): Promise<ReadonlySet<string>> {
    const res = await db.query<{ queue: string }>(`select queue from ${table} where paused`);
    return new Set(res.rows.map((r) => r.queue));
  }

  /** One refresh at a time, shared by every worker that finds the copy stale (and began after any local set). */
  function refresh(): Promise<ReadonlySet<string>> {
    if (refreshing !== undefined && refreshing.generation === generation) return refreshing.done;
    const startedAt = generation;
    const done = paused()
      .then((set) => {
        if (startedAt === generation) cache = { at: Date.now(), paused: set };
        return set;
      })
      .finally(() => {
        if (refreshing?.done === done) refreshing = undefined;
      });
    refreshing = { generation: startedAt, done };
    return done;
  }

  return {
    async install() {
      await retryConcurrentCreation(`create ${table}`, logger, () =>
        db.query(
          `create table if not exists ${table} (
             queue text primary key,
             paused boolean not null,
             updated_on timestamptz not null default now()
           )`,
        ),
      );
    },

    async set(queue, flag) {
      await db.query(
        `insert into ${table} (queue, paused) values ($1, $2)
         on conflict (queue) do update set paused = excluded.paused, updated_on = now()`,
        [queue, flag],
      );
      generation += 1;
      cache = undefined;
    },

    async isPaused(queue) {
      const res = await db.query<{ paused: boolean }>(`select paused from ${table} where queue = $1`, [
        queue,
      ]);
      return res.rows[0]?.paused === true;
    },

    paused,

    async holds(queue) {
      for (;;) {
        const seen = generation;
        const current =
          cache !== undefined && Date.now() - cache.at < maxAgeMs ? cache.paused : await refresh();
        // A local pause or resume landed while this answer was read: read again.
        if (seen === generation) return current.has(queue);
      }
    },
  };
}
