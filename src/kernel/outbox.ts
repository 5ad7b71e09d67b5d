import { asc, inArray, isNull, sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Bus } from "../platform/bus/types.js";
import type { Orm } from "../platform/db/types.js";
import { outbox } from "./kernel.schema.js";
import { inScope, type Tx } from "./tenancy/transaction.js";

/** Written in the same transaction as the change it announces: a rollback drops it with the change. */
export async function enqueueEvent(
  tx: Tx,
  e: { tenantId: string | null; subject: string; payload: Record<string, unknown> },
): Promise<void> {
  await tx.insert(outbox).values({ tenant_id: e.tenantId, subject: e.subject, payload: e.payload });
}

export interface OutboxRelayOptions {
  readonly orm: Orm;
  readonly bus: Bus;
  readonly logger: Logger;
  /** How often to look for unpublished rows when nothing nudged the relay. */
  readonly intervalMs?: number;
  readonly batchSize?: number;
}

/**
 * Publishes committed outbox rows to the bus, at least once: a row is marked published only after
 * the bus accepted it, so a crash in between publishes it again. Rows are claimed with
 * `FOR UPDATE SKIP LOCKED`, so several core instances relay without publishing one row twice at once.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly opts: OutboxRelayOptions) {}

  start(): void {
    this.timer = setInterval(() => this.nudge(), this.opts.intervalMs ?? 1_000);
    this.timer.unref();
    this.nudge();
  }

  /** Asks for a pass now (after a commit); passes never overlap. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .then(
        () => undefined,
        (err: unknown) => this.opts.logger.warn({ err }, "outbox relay pass failed"),
      )
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.nudge();
        }
      });
  }

  /** Publishes until nothing is pending; returns how many rows were published. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.pass();
      total += n;
      if (n < (this.opts.batchSize ?? 100)) return total;
    }
  }

  private pass(): Promise<number> {
    return inScope(this.opts.orm, { tenantId: null, bypass: true }, async (tx) => {
      const rows = await tx
        .select({ id: outbox.id, subject: outbox.subject, payload: outbox.payload })
        .from(outbox)
        .where(isNull(outbox.published_at))
        .orderBy(asc(outbox.id))
        .limit(this.opts.batchSize ?? 100)
        .for("update", { skipLocked: true });
      for (const row of rows) {
        await this.opts.bus.publish(row.subject, JSON.stringify({ id: row.id, ...(row.payload as object) }));
      }
      if (rows.length > 0) {
        await tx
          .update(outbox)
          .set({ published_at: sql`now()` })
          .where(
            inArray(
              outbox.id,
              rows.map((r) => r.id),
            ),
          );
      }
      return rows.length;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}
