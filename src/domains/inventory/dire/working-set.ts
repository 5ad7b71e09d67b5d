import type { IdentifierConfidence, DeviceIdentifierType } from "../inventory.schema.js";
import type { AliasLoss, AliasSighting, DeviceRow, IdentifierKey, MergeAuditWrite } from "./store.js";

/**
 * What one batch's reconciliation knows and changes, in memory: the devices and identifiers the batch
 * touches (loaded once), the active holder of each address it names, and everything to write back.
 * Reconciliation (reconcile.ts) works only on this; the ingest loads it and flushes it.
 */

export interface IdentifierState {
  uid: string;
  readonly confidence: IdentifierConfidence;
  source: string;
  sightings: number;
  firstSeen: number;
  lastSeen: number;
  dirty: boolean;
}

export interface DeviceState {
  row: DeviceRow;
  /** The row as loaded (JSON), to tell a change from a replay; undefined for devices this batch creates. */
  readonly original: string | undefined;
  /** The address the database holds for it now (freed first when it changes). */
  readonly storedIp: string | null;
}

export function identifierKey(type: DeviceIdentifierType, value: string, partition: string): string {
  return `${type}\u0000${partition}\u0000${value}`;
}

export function ipKey(partition: string, ip: string): string {
  return `${partition}\u0000${ip}`;
}

export function parseIdentifierKey(key: string): IdentifierKey {
  const [type, partition, value] = key.split("\u0000");
  return { type: type as DeviceIdentifierType, partition: partition ?? "", value: value ?? "" };
}

export interface PlannedMerge {
  readonly from: string;
  readonly to: string;
  readonly partition: string;
  readonly reason: string;
  readonly snapshot: DeviceRow;
}

export class WorkingSet {
  readonly devices = new Map<string, DeviceState>();
  readonly identifiers = new Map<string, IdentifierState>();
  /** partition+ip → uid of the active device holding it. */
  readonly ipHolders = new Map<string, string>();
  readonly created = new Set<string>();
  readonly merges: PlannedMerge[] = [];
  readonly blocked: Omit<MergeAuditWrite, "actor">[] = [];
  /** device+type+value → the batch's sightings of that alias, folded into one. */
  readonly aliasSightings = new Map<string, AliasSighting>();
  readonly aliasLosses = new Map<string, AliasLoss>();
  /** Devices this batch soft-deleted. */
  readonly deletedNow = new Set<string>();
  get deleted(): number {
    return this.deletedNow.size;
  }

  /** Devices the tenant may still add (null: no limit). */
  constructor(public allowance: number | null) {}

  addDevice(row: DeviceRow, existing: boolean): void {
    const ip = typeof row.ip === "string" ? row.ip : null;
    this.devices.set(row.uid, {
      row,
      original: existing ? JSON.stringify(row) : undefined,
      storedIp: existing ? ip : null,
    });
  }

  /** The device a uid stands for now: merged devices lead to their survivor. */
  resolve(uid: string | undefined): string | undefined {
    let current = uid;
    for (let hops = 0; current !== undefined && hops < 16; hops++) {
      const d = this.devices.get(current);
      if (d === undefined) return undefined;
      const next = d.row.merged_into;
      if (typeof next !== "string") return current;
      current = next;
    }
    return undefined;
  }

  device(uid: string): DeviceState {
    const d = this.devices.get(uid);
    if (d === undefined) throw new Error(`device ${uid} is not in the working set`);
    return d;
  }

  /** Folds a sighting of an address into the batch's alias writes (see store.ts for the states). */
  sightAlias(deviceId: string, partition: string, ip: string, seen: string, kind: "new" | "seen"): void {
    const key = `${deviceId}\u0000ip\u0000${ip}`;
    const prev = this.aliasSightings.get(key);
    if (prev === undefined) {
      this.aliasSightings.set(key, {
        device_id: deviceId,
        alias_type: "ip",
        alias_value: ip,
        partition,
        kind,
        first: seen,
        seen,
        hits: 1,
      });
      return;
    }
    const moreRecent = seen > prev.seen;
    const earlier = seen < prev.first;
    if (!moreRecent && !earlier && kind === prev.kind) return;
    this.aliasSightings.set(key, {
      ...prev,
      kind: prev.kind === "new" || kind === "new" ? "new" : "seen",
      first: earlier ? seen : prev.first,
      seen: moreRecent ? seen : prev.seen,
      hits: prev.hits + (moreRecent || earlier ? 1 : 0),
    });
  }

  /** A device lost an address (the last loss of an alias in the batch wins). */
  loseAlias(loss: AliasLoss): void {
    this.aliasLosses.set(`${loss.device_id}\u0000ip\u0000${loss.alias_value}`, loss);
  }

  /** Rows that changed (or are new), for the upsert. */
  changedRows(): DeviceRow[] {
    const rows: DeviceRow[] = [];
    for (const d of this.devices.values()) {
      if (d.original === undefined || JSON.stringify(d.row) !== d.original) rows.push(d.row);
    }
    return rows;
  }

  /** Devices whose stored address must be freed before the upsert (they give it up or change it). */
  ipsToRelease(): string[] {
    const uids: string[] = [];
    for (const [uid, d] of this.devices) {
      if (d.storedIp !== null && d.row.ip !== d.storedIp) uids.push(uid);
    }
    return uids;
  }
}
