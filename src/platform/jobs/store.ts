import type PgBoss from "pg-boss";
import type { Logger } from "pino";
import { SondeError } from "../../lib/errors.js";
import type { Database } from "../db/types.js";
import { countsByState } from "./inspect.js";
import { deadLetterName, parseQueueName, queueName } from "./names.js";
import { retryConcurrentCreation } from "./races.js";
import type { AnyJobDefinition } from "./registry.js";
import type { DeadLetter, JobStats, ScheduleInfo } from "./types.js";

/**
 * Queue creation and the reads pg-boss 10 has no API for (per-state counts of one queue, dead-letter
 * listings, schedules with their time zone), as SQL over pg-boss's documented tables. The schema name
 * is interpolated; it was validated by the caller (`[a-z_][a-z0-9_]*`).
 */
export interface QueueStore {
  /** Creates (once per process) the queue of a job or of a tenant's share of it, and its dead letter. */
  ensure(def: AnyJobDefinition, tenant: string | undefined): Promise<string>;
  forbidRetries(queue: string, id: string): Promise<void>;
  schedule(queue: string, cron: string, data: Record<string, unknown>, tz: string): Promise<void>;
  schedules(): Promise<ScheduleInfo[]>;
  stats(queue: string): Promise<JobStats>;
  deadLetters(queue: string, limit: number): Promise<DeadLetter[]>;
  ping(): Promise<void>;
}

/** pg-boss errors that come from PostgreSQL carry a SQLSTATE; its own argument checks do not. */
function hasSqlState(err: unknown): boolean {
  return err instanceof Error && typeof (err as { code?: unknown }).code === "string";
}

function queueOptions(def: AnyJobDefinition, name: string, deadLetter: string | undefined): PgBoss.Queue {
  const options: PgBoss.Queue = {
    name,
    policy: def.policy,
    retryLimit: def.retryLimit,
    retryDelay: def.retryDelaySeconds,
    retryBackoff: def.retryBackoff,
    expireInSeconds: def.expireInSeconds,
    // Queue-level retention is in minutes; sends also pass the exact seconds.
    retentionMinutes: Math.max(1, Math.ceil(def.retentionSeconds / 60)),
  };
  if (deadLetter !== undefined) options.deadLetter = deadLetter;
  return options;
}

export interface QueueStoreDeps {
  readonly db: Database;
  /** The running pg-boss instance (made by `start()`). */
  readonly boss: () => PgBoss;
  readonly schema: string;
  readonly logger: Logger;
}

export function createQueueStore(deps: QueueStoreDeps): QueueStore {
  const { db, schema, logger } = deps;
  const ensured = new Map<string, Promise<string>>();

  async function createQueue(name: string, options: PgBoss.Queue): Promise<void> {
    const boss = deps.boss();
    // Cheap when it exists (every start after the first); racing creators are retried (races.ts).
    if ((await boss.getQueue(name)) === null) {
      await retryConcurrentCreation(`create queue ${name}`, logger, () => boss.createQueue(name, options));
    }
    // createQueue leaves an existing queue as it was; bring its options in line with the definition.
    await boss.updateQueue(name, options);
  }

  async function create(def: AnyJobDefinition, name: string): Promise<string> {
    const dead = def.deadLetter ? deadLetterName(name) : undefined;
    // The dead letter first: the queue row references it.
    if (dead !== undefined) await createQueue(dead, { name: dead });
    await createQueue(name, queueOptions(def, name, dead));
    return name;
  }

  return {
    ensure(def, tenant) {
      const name = queueName(def.name, tenant);
      let pending = ensured.get(name);
      if (pending === undefined) {
        pending = create(def, name);
        ensured.set(name, pending);
        // A failed creation is retried by the next caller rather than cached.
        pending.catch(() => ensured.delete(name));
      }
      return pending;
    },

    async forbidRetries(queue, id) {
      // pg-boss 10 has no "fail without retry"; lowering the limit to the count makes this attempt the last.
      await db.query(
        `update ${schema}.job set retry_limit = retry_count where name = $1 and id = $2 and state = 'active'`,
        [queue, id],
      );
    },

    async schedule(queue, cron, data, tz) {
      try {
        await deps.boss().schedule(queue, cron, data, { tz });
      } catch (err) {
        if (hasSqlState(err)) throw err;
        throw new SondeError("SONDE_VALIDATION_FAILED", `invalid schedule "${cron}" (${tz}) for "${queue}"`, {
          meta: { field: "cron" },
          cause: err,
        });
      }
    },

    async schedules() {
      const res = await db.query<{ name: string; cron: string; timezone: string | null; data: unknown }>(
        `select name, cron, timezone, data from ${schema}.schedule order by name`,
      );
      return res.rows.map((row) => {
        const { job, tenant } = parseQueueName(row.name);
        return {
          queue: row.name,
          job,
          tenant,
          cron: row.cron,
          timezone: row.timezone ?? "UTC",
          payload: row.data,
        };
      });
    },

    async stats(queue) {
      const res = await db.query<{ state: string; count: number }>(
        `select state::text as state, count(*)::int as count from ${schema}.job where name = $1 group by state`,
        [queue],
      );
      return countsByState(res.rows);
    },

    async deadLetters(queue, limit) {
      const res = await db.query<{ id: string; data: unknown; output: unknown; created_on: Date }>(
        `select id::text as id, data, output, created_on from ${schema}.job
          where name = $1 order by created_on, id limit $2`,
        [queue, limit],
      );
      return res.rows.map((row) => ({
        id: row.id,
        queue,
        payload: row.data,
        error: row.output,
        createdOn: row.created_on,
      }));
    },

    async ping() {
      try {
        await db.query(`select 1 from ${schema}.version limit 1`);
      } catch (err) {
        throw new SondeError("SONDE_DB_UNAVAILABLE", "the job queue's database does not answer", {
          cause: err,
        });
      }
    },
  };
}
