import type { Database } from "../db/types.js";
import { parseQueueName } from "./names.js";
import type { JobStats, QueueInfo } from "./types.js";

/** Inspection of queues as SQL over pg-boss's documented tables (pg-boss 10 has no API for counts). */

const STATES = ["created", "retry", "active", "completed", "cancelled", "failed"] as const;
type JobState = (typeof STATES)[number];

function isJobState(value: string): value is JobState {
  return (STATES as readonly string[]).includes(value);
}

/** Per-state counts from `(state, count)` rows; states pg-boss may add later count in `total` only. */
export function countsByState(rows: readonly { readonly state: string; readonly count: number }[]): JobStats {
  const counts: Record<JobState, number> = {
    created: 0,
    retry: 0,
    active: 0,
    completed: 0,
    cancelled: 0,
    failed: 0,
  };
  let total = 0;
  for (const row of rows) {
    if (isJobState(row.state)) counts[row.state] = row.count;
    total += row.count;
  }
  return { ...counts, total };
}

// pg-boss's own queues (its cron hand-over, `__pgboss__send-it`); Sonde's job names start with a letter.
const PG_BOSS_INTERNAL = "__pgboss__";

/**
 * Every queue of the schema but dead letters and pg-boss's own (their size is reported with their queue), with live job
 * counts by state and the pause flag. One pass over the job table: meant for operators, not hot paths.
 */
export async function listQueues(
  db: Database,
  schema: string,
  paused: ReadonlySet<string>,
): Promise<QueueInfo[]> {
  const names = await db.query<{ name: string }>(`select name from ${schema}.queue order by name`);
  const counts = await db.query<{ name: string; state: string; count: number }>(
    `select name, state::text as state, count(*)::int as count from ${schema}.job group by name, state`,
  );
  const byQueue = new Map<string, { state: string; count: number }[]>();
  for (const row of counts.rows) {
    const rows = byQueue.get(row.name) ?? [];
    rows.push({ state: row.state, count: row.count });
    byQueue.set(row.name, rows);
  }
  const out: QueueInfo[] = [];
  for (const { name } of names.rows) {
    const parsed = parseQueueName(name);
    if (parsed.deadLetter || name.startsWith(PG_BOSS_INTERNAL)) continue;
    const dead = countsByState(byQueue.get(`${name}.dead`) ?? []);
    out.push({
      queue: name,
      job: parsed.job,
      tenant: parsed.tenant,
      paused: paused.has(name),
      counts: countsByState(byQueue.get(name) ?? []),
      deadLetters: dead.total,
    });
  }
  return out;
}
