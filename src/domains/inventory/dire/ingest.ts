import type { Logger } from "pino";
import { actorId } from "../../../kernel/actor.js";
import type { BulkContext, BulkOutcome, Kernel } from "../../../kernel/kernel.js";
import type { ActionContext } from "../../../kernel/pipeline/authorize.js";
import { deviceResource } from "../resources/device.js";
import type { IdentityCache } from "./identity-cache.js";
import type { InventoryMetrics } from "./metrics.js";
import { reconcile } from "./reconcile.js";
import {
  deviceAllowance,
  findIdentifiers,
  findIpHolders,
  type IdentifierKey,
  type IdentifierWrite,
  insertMergeAudits,
  loadDevices,
  lockTenantIngest,
  moveIdentifiers,
  recordAliasLosses,
  recordNewAliases,
  confirmAliases,
  releaseIps,
  upsertDevices,
  upsertIdentifiers,
} from "./store.js";
import { addResult, emptyResult, type IngestResult } from "./types.js";
import { type DeviceUpdate, isRejection, parseUpdate, type Rejection } from "./update.js";
import { identifierKey, ipKey, parseIdentifierKey, WorkingSet } from "./working-set.js";

export const DEFAULT_BATCH_SIZE = 1000;

export interface DeviceIngestOptions {
  readonly kernel: Kernel;
  readonly logger: Logger;
  readonly cache?: IdentityCache;
  readonly metrics?: InventoryMetrics;
  /** Updates per transaction (default 1,000). */
  readonly batchSize?: number;
}

/**
 * DIRE's ingest: device updates from any source (sync API, bus stream, integrations) reconciled to
 * canonical devices. Updates are validated one by one (a bad one is rejected alone), then processed
 * in batches, each one transaction through `Kernel.bulk` (the device resource's `sync` action, so
 * roles, token scopes and tenancy are the kernel's): load what the batch names, reconcile in memory,
 * write back set-based. A tenant's batches run one at a time (an advisory lock); replaying a batch
 * changes nothing.
 */
export class DeviceIngest {
  private readonly batchSize: number;

  constructor(private readonly opts: DeviceIngestOptions) {
    this.batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_SIZE);
  }

  async ingest(ctx: ActionContext, raw: readonly unknown[]): Promise<IngestResult> {
    const total = emptyResult();
    for (let start = 0; start < raw.length; start += this.batchSize) {
      const chunk = raw.slice(start, start + this.batchSize);
      addResult(total, await this.ingestBatch(ctx, chunk), start);
    }
    return total;
  }

  private async ingestBatch(ctx: ActionContext, raw: readonly unknown[]): Promise<IngestResult> {
    const started = performance.now();
    const now = new Date();
    const result = emptyResult();
    result.received = raw.length;
    const updates: DeviceUpdate[] = [];
    raw.forEach((r, i) => {
      const parsed = parseUpdate(r, i, now);
      if (isRejection(parsed)) result.rejected.push(parsed);
      else updates.push(parsed);
    });
    // Authorized even when every update was invalid: a viewer gets 403, never a list of rejections.
    {
      let learned: { tenantId: string; ws: WorkingSet } | undefined;
      const counts = await this.opts.kernel.bulk(
        this.opts.kernel.resource(deviceResource.name),
        "sync",
        ctx,
        async (bulk) => {
          const outcome = await this.apply(bulk, updates);
          learned = { tenantId: bulk.tenantId, ws: outcome.ws };
          return outcome;
        },
      );
      // Only what committed may reach the cache.
      if (learned !== undefined) this.remember(learned.tenantId, learned.ws);
      result.created = counts.created;
      result.updated = counts.updated;
      result.merged = counts.merged;
      result.blocked_merges = counts.blocked_merges;
      result.deleted = counts.deleted;
      result.rejected.push(...counts.rejected);
      result.rejected.sort((a, b) => a.index - b.index);
    }
    this.opts.metrics?.recordBatch(result, (performance.now() - started) / 1000);
    return result;
  }

  private async apply(
    bulk: BulkContext,
    updates: readonly DeviceUpdate[],
  ): Promise<BulkOutcome<IngestResult> & { ws: WorkingSet }> {
    const { tx, tenantId } = bulk;
    if (updates.length === 0) return { result: emptyResult(), ws: new WorkingSet(null) };
    await lockTenantIngest(tx, tenantId);
    const ws = await this.load(bulk, updates);
    const rejected: Rejection[] = [];
    for (const u of updates) {
      const refused = reconcile(u, ws);
      if (refused !== undefined) rejected.push(refused);
    }
    const counts = await this.flush(bulk, ws);
    const events: { event: string; payload: Record<string, unknown> }[] = [];
    if (counts.created + counts.updated + counts.merged + counts.deleted > 0) {
      events.push({ event: "synced", payload: { counts: { ...counts, rejected: rejected.length } } });
    }
    for (const m of ws.merges)
      events.push({ event: "merged", payload: { from: m.from, to: m.to, reason: m.reason } });
    return { result: { ...emptyResult(), ...counts, rejected }, events, ws };
  }

  /** Reads what the batch names: its identifiers (cache first), the holders of its addresses, their devices. */
  private async load(bulk: BulkContext, updates: readonly DeviceUpdate[]): Promise<WorkingSet> {
    const { tx, tenantId } = bulk;
    const ws = new WorkingSet(await deviceAllowance(tx, tenantId));
    const keys = new Map<string, IdentifierKey>();
    const ips = new Map<string, { partition: string; ip: string }>();
    const uids = new Set<string>();
    for (const u of updates) {
      for (const id of u.identifiers)
        keys.set(identifierKey(id.type, id.value, u.partition), {
          type: id.type,
          value: id.value,
          partition: u.partition,
        });
      if (u.ip !== undefined) ips.set(ipKey(u.partition, u.ip), { partition: u.partition, ip: u.ip });
      if (u.deviceId !== undefined) uids.add(u.deviceId);
    }
    const misses: IdentifierKey[] = [];
    const cache = this.opts.cache;
    for (const [k, key] of keys) {
      const hit = cache?.get(tenantId, k);
      if (hit === undefined) misses.push(key);
      else ws.identifiers.set(k, { ...hit, dirty: false });
    }
    this.opts.metrics?.recordLookups(keys.size - misses.length, misses.length);
    for (const row of await findIdentifiers(tx, misses)) {
      const last = Date.parse(String(row.last_seen));
      ws.identifiers.set(identifierKey(row.type, row.value, row.partition), {
        uid: row.device_id,
        confidence: row.confidence,
        source: "",
        sightings: row.sightings,
        firstSeen: last,
        lastSeen: last,
        dirty: false,
      });
    }
    for (const h of await findIpHolders(tx, [...ips.values()])) {
      ws.ipHolders.set(ipKey(h.partition, h.ip), h.uid);
      uids.add(h.uid);
    }
    for (const s of ws.identifiers.values()) uids.add(s.uid);
    // Merged devices lead to their survivors, which the batch may not name: follow a few hops.
    let pending = [...uids];
    for (let hop = 0; hop < 4 && pending.length > 0; hop++) {
      const rows = await loadDevices(tx, pending);
      for (const row of rows) ws.addDevice(row, true);
      pending = rows
        .map((r) => r.merged_into)
        .filter((m): m is string => typeof m === "string" && !ws.devices.has(m));
    }
    // Identifiers naming a device that is gone (a stale cache entry) are looked up again.
    const stale = [...ws.identifiers].filter(([, s]) => !ws.devices.has(s.uid)).map(([k]) => k);
    if (stale.length > 0) {
      cache?.invalidateTenant(tenantId);
      for (const k of stale) ws.identifiers.delete(k);
      const again = await findIdentifiers(tx, stale.map(parseIdentifierKey));
      const missing = new Set<string>();
      for (const row of again) {
        const last = Date.parse(String(row.last_seen));
        ws.identifiers.set(identifierKey(row.type, row.value, row.partition), {
          uid: row.device_id,
          confidence: row.confidence,
          source: "",
          sightings: row.sightings,
          firstSeen: last,
          lastSeen: last,
          dirty: false,
        });
        if (!ws.devices.has(row.device_id)) missing.add(row.device_id);
      }
      for (const row of await loadDevices(tx, [...missing])) ws.addDevice(row, true);
    }
    return ws;
  }

  /** Writes the batch back: addresses freed first, devices, merges (audited), identifiers, aliases. */
  private async flush(
    bulk: BulkContext,
    ws: WorkingSet,
  ): Promise<Omit<IngestResult, "received" | "rejected">> {
    const { tx, tenantId } = bulk;
    const actor = actorId(bulk.actor);
    await releaseIps(tx, ws.ipsToRelease());
    const rows = ws.changedRows();
    await upsertDevices(tx, tenantId, rows);
    const audits = [];
    for (const m of ws.merges) {
      const moved = await moveIdentifiers(tx, m.from, m.to);
      audits.push({
        from_device_id: m.from,
        to_device_id: m.to,
        partition: m.partition,
        outcome: "merged" as const,
        reason: m.reason,
        identifiers: moved,
        snapshot: m.snapshot,
        actor,
      });
    }
    const written = await insertMergeAudits(tx, tenantId, [
      ...audits,
      ...ws.blocked.map((b) => ({ ...b, actor })),
    ]);
    const identifierRows: IdentifierWrite[] = [];
    for (const [k, s] of ws.identifiers) {
      if (!s.dirty) continue;
      const key = parseIdentifierKey(k);
      identifierRows.push({
        ...key,
        device_id: s.uid,
        confidence: s.confidence,
        source: s.source === "" ? "unknown" : s.source,
        sightings: s.sightings,
        first_seen: new Date(s.firstSeen).toISOString(),
        last_seen: new Date(s.lastSeen).toISOString(),
      });
    }
    await upsertIdentifiers(tx, tenantId, identifierRows);
    const sightings = [...ws.aliasSightings.values()];
    await recordAliasLosses(tx, tenantId, [...ws.aliasLosses.values()]);
    await recordNewAliases(
      tx,
      tenantId,
      sightings.filter((s) => s.kind === "new"),
    );
    await confirmAliases(
      tx,
      sightings.filter((s) => s.kind === "seen"),
    );
    const created = rows.filter((r) => ws.created.has(r.uid) && r.merged_into === null).length;
    const merged = ws.merges.length;
    const changedExisting = rows.filter(
      (r) => !ws.created.has(r.uid) && r.merged_into === null && !ws.deletedNow.has(r.uid),
    ).length;
    this.opts.metrics?.recordMerges(merged, written.filter((w) => w.outcome === "blocked").length);
    return {
      created,
      updated: changedExisting,
      merged,
      blocked_merges: written.filter((w) => w.outcome === "blocked").length,
      deleted: ws.deleted,
    };
  }

  /**
   * Teaches the cache what a committed batch wrote. Merges drop the tenant's entries instead (the
   * moved identifiers were not all loaded).
   */
  private remember(tenantId: string, ws: WorkingSet): void {
    const cache = this.opts.cache;
    if (cache === undefined) return;
    if (ws.merges.length > 0) {
      cache.invalidateTenant(tenantId);
      return;
    }
    for (const [k, s] of ws.identifiers) {
      cache.set(tenantId, k, {
        uid: s.uid,
        confidence: s.confidence,
        source: s.source,
        sightings: s.sightings,
        firstSeen: s.firstSeen,
        lastSeen: s.lastSeen,
      });
    }
  }
}
