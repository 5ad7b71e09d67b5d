import { sql } from "drizzle-orm";
import { queryRows, type Tx } from "../../../kernel/tenancy/transaction.js";
import type { DueChecker } from "./check-work.js";

/**
 * Claims the tenant's due checkers (active or failing, due now) and moves each one's next run a
 * period on, in one statement: rows another scheduler holds are skipped (SKIP LOCKED), so a due
 * time is claimed once even if two cores briefly both think they lead. Runs in the tenant's
 * transaction (Kernel.bulk), so RLS scopes it. The due time returned is the one claimed, which makes
 * the work id; a checker that was due long ago runs once now, not once per missed period.
 */
export async function claimDueCheckers(tx: Tx, limit: number): Promise<DueChecker[]> {
  const rows = await queryRows<{
    id: string;
    name: string;
    check_type: string;
    details: string;
    port: number;
    timeout_ms: number;
    partition: string;
    agent_component_id: string;
    due_ms: string | number;
  }>(
    tx,
    sql`with due as (
          select c.id, coalesce(c.next_run_at, c.created_at) as due_at
          from checkers c
          where c.status in ('active', 'failing') and coalesce(c.next_run_at, c.created_at) <= now()
          order by coalesce(c.next_run_at, c.created_at)
          limit ${limit}
          for update of c skip locked
        )
        update checkers c
        set next_run_at = greatest(due.due_at + make_interval(secs => c.interval_seconds),
                                   now() + make_interval(secs => c.interval_seconds) / 2),
            last_dispatched_at = now()
        from due, agents a
        where c.id = due.id and a.id = c.agent_id
        returning c.id, c.name, c.check_type, c.details, c.port, c.timeout_ms, a.partition,
                  a.component_id as agent_component_id,
                  floor(extract(epoch from due.due_at) * 1000)::bigint as due_ms`,
  );
  return rows.map((r) => ({ ...r, due_ms: Number(r.due_ms) }));
}
