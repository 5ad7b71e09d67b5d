/**
 * Records API token use (use_count, last_used_at, last_used_ip) without a write per request: uses are
 * added up in memory and written in one statement per token every few seconds, and on stop. A crash
 * loses at most that interval's counts, never a token or a request.
 */
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { inScope } from "../../kernel/tenancy/transaction.js";
import type { Orm } from "../../platform/db/types.js";
import { apiTokens } from "./identity.schema.js";

interface Pending {
  count: number;
  at: Date;
  ip: string;
}

export class TokenUsage {
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly orm: Orm,
    private readonly logger: Logger,
    private readonly intervalMs = 5_000,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  record(tokenId: string, ip: string, at = new Date()): void {
    const p = this.pending.get(tokenId);
    if (p === undefined) this.pending.set(tokenId, { count: 1, at, ip });
    else {
      p.count += 1;
      p.at = at;
      p.ip = ip;
    }
  }

  /** Writes what has been recorded so far; concurrent calls queue behind each other. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await inScope(this.orm, { tenantId: null, bypass: true }, async (tx) => {
        for (const [id, p] of batch) {
          await tx
            .update(apiTokens)
            .set({
              use_count: sql`${apiTokens.use_count} + ${p.count}`,
              last_used_at: p.at,
              last_used_ip: p.ip,
            })
            .where(sql`${apiTokens.id} = ${id}`);
        }
      });
    } catch (err) {
      this.logger.warn({ err, tokens: batch.size }, "could not record API token use; will retry");
      for (const [id, p] of batch) {
        const now = this.pending.get(id);
        if (now === undefined) this.pending.set(id, p);
        else now.count += p.count;
      }
    }
  }
}
