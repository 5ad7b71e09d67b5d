/**
 * One sync request (an HTTP body or a bus message) fed to DIRE in chunks: records are collected
 * until a chunk is full, the chunk is ingested, and only then does the caller read on, so memory
 * stays bounded by one chunk however long the input is. Rejections keep the index the record had
 * in the caller's input, and the list of them is capped so that a huge bad input cannot produce a
 * huge answer (`rejected_count` still counts all).
 */
import type { ActionContext } from "../../kernel/pipeline/authorize.js";
import type { IngestResult } from "./dire/types.js";
import type { Rejection } from "./dire/update.js";

/** What the sync entry points need of DIRE (DeviceIngest); validation and authorization are its own. */
export interface UpdateIngest {
  ingest(ctx: ActionContext, raw: readonly unknown[]): Promise<IngestResult>;
}

export interface SyncLimits {
  /** Records per ingest call. */
  readonly chunkSize: number;
  /** Records read per request; those beyond are rejected unread. */
  readonly maxRecords: number;
  /** Rejections listed in the report; the rest are only counted. */
  readonly maxListedRejections: number;
}

export const DEFAULT_SYNC_LIMITS: SyncLimits = {
  chunkSize: 1_000,
  maxRecords: 1_000_000,
  maxListedRejections: 1_000,
};

/** The sync API's response body: IngestResult over the whole input, rejections capped. */
export interface SyncReport extends IngestResult {
  /** Every rejected record, including those not listed in `rejected`. */
  rejected_count: number;
}

export class SyncBatches {
  readonly #report: SyncReport = {
    received: 0,
    created: 0,
    updated: 0,
    merged: 0,
    blocked_merges: 0,
    deleted: 0,
    rejected: [],
    rejected_count: 0,
  };
  /** The chunk being collected and, for each of its records, its index in the input. */
  #chunk: unknown[] = [];
  #positions: number[] = [];
  /** Rejections decided before DIRE (not JSON, too long) of records in the current chunk's span. */
  #early: Rejection[] = [];

  constructor(
    private readonly ingest: UpdateIngest,
    private readonly ctx: ActionContext,
    private readonly limits: SyncLimits = DEFAULT_SYNC_LIMITS,
  ) {}

  /** Takes the next record; when it fills a chunk, resolves only after the chunk is ingested. */
  async add(raw: unknown): Promise<void> {
    const index = this.#report.received++;
    if (index >= this.limits.maxRecords) return this.#beyondLimit(index);
    this.#chunk.push(raw);
    this.#positions.push(index);
    await this.#flushIfFull();
  }

  /** The next record could not even be read (not JSON, too long): rejected without DIRE. */
  async reject(reason: string): Promise<void> {
    const index = this.#report.received++;
    if (index >= this.limits.maxRecords) return this.#beyondLimit(index);
    this.#early.push({ index, reason });
    await this.#flushIfFull();
  }

  /** Ingests what is left and returns the report of the whole input. */
  async finish(): Promise<SyncReport> {
    await this.#flush();
    return this.#report;
  }

  /** Records past maxRecords are counted and rejected, never ingested; the last chunk goes first. */
  async #beyondLimit(index: number): Promise<void> {
    await this.#flush();
    this.#list([
      { index, reason: `beyond the limit of ${this.limits.maxRecords} records per request: not processed` },
    ]);
  }

  async #flushIfFull(): Promise<void> {
    if (this.#chunk.length + this.#early.length >= this.limits.chunkSize) await this.#flush();
  }

  async #flush(): Promise<void> {
    const chunk = this.#chunk;
    const positions = this.#positions;
    const rejected = this.#early;
    this.#chunk = [];
    this.#positions = [];
    this.#early = [];
    if (chunk.length > 0) {
      const result = await this.#ingest(chunk);
      for (const r of result.rejected)
        rejected.push({ index: positions[r.index] ?? r.index, reason: r.reason });
    }
    // Indexes of later chunks are all higher, so sorting each chunk keeps the whole list in order.
    this.#list(rejected.sort((a, b) => a.index - b.index));
  }

  async #ingest(chunk: readonly unknown[]): Promise<IngestResult> {
    const result = await this.ingest.ingest(this.ctx, chunk);
    const r = this.#report;
    r.created += result.created;
    r.updated += result.updated;
    r.merged += result.merged;
    r.blocked_merges += result.blocked_merges;
    r.deleted += result.deleted;
    return result;
  }

  #list(rejections: readonly Rejection[]): void {
    const r = this.#report;
    r.rejected_count += rejections.length;
    const room = this.limits.maxListedRejections - r.rejected.length;
    if (room > 0) r.rejected.push(...rejections.slice(0, room));
  }
}
