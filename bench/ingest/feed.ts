/**
 * Feeds a pass to the ingest as the sync API would: SyncBatches (sync-batches.ts) hands DIRE one
 * chunk of DEFAULT_SYNC_LIMITS.chunkSize records per call, the next only after the last is ingested;
 * here each call is timed. The chunk is the ingest's default batch size (both 1,000).
 */
import type { IngestResult } from "../../src/domains/inventory/dire/types.js";
import { addResult, emptyResult } from "../../src/domains/inventory/dire/types.js";
import type { ActionContext } from "../../src/kernel/pipeline/authorize.js";

export interface Ingestor {
  ingest(ctx: ActionContext, raw: readonly unknown[]): Promise<IngestResult>;
}

export interface Fed {
  readonly ms: number;
  /** Milliseconds per call, in order. */
  readonly callMs: readonly number[];
  /** Updates per call, in order. */
  readonly callRows: readonly number[];
  readonly result: IngestResult;
}

export async function feed(
  ingest: Ingestor,
  ctx: ActionContext,
  rows: readonly unknown[],
  perCall: number,
  progress?: (done: number) => void,
  /** Runs after call `i` (0-based), inside the timing (a what-if's extra work counts). */
  afterCall?: (i: number) => Promise<void>,
): Promise<Fed> {
  const result = emptyResult();
  const callMs: number[] = [];
  const callRows: number[] = [];
  const started = performance.now();
  let lastProgress = started;
  for (let start = 0; start < rows.length; start += perCall) {
    const chunk = rows.slice(start, start + perCall);
    const t0 = performance.now();
    addResult(result, await ingest.ingest(ctx, chunk), start);
    await afterCall?.(callMs.length);
    const t1 = performance.now();
    callMs.push(t1 - t0);
    callRows.push(chunk.length);
    if (progress !== undefined && t1 - lastProgress > 5_000) {
      progress(Math.min(rows.length, start + perCall));
      lastProgress = t1;
    }
  }
  return { ms: performance.now() - started, callMs, callRows, result };
}

/** Updates per second over calls [from, to) (e.g. the first and the last quarter of a pass). */
export function rateOver(fed: Fed, from: number, to: number): number {
  const ms = fed.callMs.slice(from, to).reduce((a, b) => a + b, 0);
  const rows = fed.callRows.slice(from, to).reduce((a, b) => a + b, 0);
  return rows / (ms / 1000);
}
