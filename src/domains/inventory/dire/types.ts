import type { Rejection } from "./update.js";

/** What one ingest call reports (the sync API's response body). */
export interface IngestResult {
  received: number;
  created: number;
  updated: number;
  /** Devices merged into another because an update showed they are one. */
  merged: number;
  /** Merges refused (MAC-only evidence), each recorded in merge_audits with its reason. */
  blocked_merges: number;
  deleted: number;
  rejected: Rejection[];
}

export function emptyResult(): IngestResult {
  return { received: 0, created: 0, updated: 0, merged: 0, blocked_merges: 0, deleted: 0, rejected: [] };
}

/** Adds `b` into `a`, shifting b's rejection indexes by `offset` (batches of one request). */
export function addResult(a: IngestResult, b: IngestResult, offset = 0): void {
  a.received += b.received;
  a.created += b.created;
  a.updated += b.updated;
  a.merged += b.merged;
  a.blocked_merges += b.blocked_merges;
  a.deleted += b.deleted;
  for (const r of b.rejected) a.rejected.push({ index: r.index + offset, reason: r.reason });
}
