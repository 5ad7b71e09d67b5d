import { Counter, Histogram, type Registry } from "prom-client";
import type { IngestResult } from "./types.js";

/** DIRE's Prometheus series: lookups and cache hits, merges, ingest volume and batch latency. */
export interface InventoryMetrics {
  recordLookups(hits: number, misses: number): void;
  recordMerges(merged: number, blocked: number): void;
  recordBatch(result: IngestResult, seconds: number): void;
}

export function createInventoryMetrics(registry: Registry): InventoryMetrics {
  const lookups = new Counter({
    name: "sonde_dire_identifier_lookups_total",
    help: "Identifier lookups by DIRE, by result: hit (identity cache) or miss (database). Hit rate = hit / all.",
    labelNames: ["result"] as const,
    registers: [registry],
  });
  const merges = new Counter({
    name: "sonde_dire_merges_total",
    help: "Devices merged into another (outcome merged) and merges refused on MAC-only evidence (blocked).",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const updates = new Counter({
    name: "sonde_dire_updates_total",
    help: "Device updates ingested, by outcome (created, updated, deleted, rejected, received).",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const batches = new Histogram({
    name: "sonde_dire_batch_duration_seconds",
    help: "Time to validate, reconcile and write one ingest batch.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    recordLookups(hits, misses) {
      if (hits > 0) lookups.inc({ result: "hit" }, hits);
      if (misses > 0) lookups.inc({ result: "miss" }, misses);
    },
    recordMerges(merged, blocked) {
      if (merged > 0) merges.inc({ outcome: "merged" }, merged);
      if (blocked > 0) merges.inc({ outcome: "blocked" }, blocked);
    },
    recordBatch(result, seconds) {
      updates.inc({ outcome: "received" }, result.received);
      if (result.created > 0) updates.inc({ outcome: "created" }, result.created);
      if (result.updated > 0) updates.inc({ outcome: "updated" }, result.updated);
      if (result.deleted > 0) updates.inc({ outcome: "deleted" }, result.deleted);
      if (result.rejected.length > 0) updates.inc({ outcome: "rejected" }, result.rejected.length);
      batches.observe(seconds);
    },
  };
}
