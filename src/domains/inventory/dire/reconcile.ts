import { canonicalId } from "./canonical-id.js";
import { isNonMacStrong } from "./identifiers.js";
import { sourceConfidence } from "./sources.js";
import type { DeviceRow } from "./store.js";
import type { DeviceUpdate, Rejection } from "./update.js";
import { type DeviceState, identifierKey, ipKey, type WorkingSet } from "./working-set.js";

/**
 * The reconciliation rules (docs/inventory.md), applied to one update against the batch's working
 * set. Pure: no I/O, so the rules are tested directly and a batch costs only its loads and flush.
 *
 * 1. The update's matchable identifiers (strongest first) name devices, within its partition.
 * 2. None: the update's own canonical id if that device exists, else the active holder of its IP in
 *    the partition, else a new device under a deterministic canonical id.
 * 3. One: that device. Several: the update's own canonical id if among them, else the device of the
 *    highest-priority identifier; the others are merged into it, unless all they share with the
 *    update are MACs (blocked, recorded with the reason).
 * 4. Attributes are taken where the update's source is at least as trusted as the one that set them.
 */

/** How stale an identifier's last_seen may get before a sighting rewrites it. */
export const IDENTIFIER_REFRESH_MS = 60 * 60_000;

const CANONICAL_ID = /^sr:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const iso = (ms: number) => new Date(ms).toISOString();
const ms = (v: unknown): number => (typeof v === "string" ? Date.parse(v) : Number.NaN);

function emptyRow(uid: string, u: DeviceUpdate): DeviceRow {
  const seen = iso(u.seenAt.getTime());
  return {
    uid,
    device_type: null,
    type_id: 0,
    name: null,
    hostname: null,
    ip: null,
    mac: null,
    vendor_name: null,
    model: null,
    os: null,
    domain: null,
    zone: null,
    subnet: null,
    region: null,
    first_seen_time: seen,
    last_seen_time: seen,
    risk_level: null,
    is_managed: false,
    is_available: false,
    discovery_sources: [],
    agent_id: null,
    poller_id: null,
    partition: u.partition,
    tags: [],
    metadata: {},
    group_id: null,
    identity_state: "provisional",
    field_sources: {},
    merged_into: null,
    deleted_at: null,
  };
}

/** The devices the update's identifiers name, in the update's priority order, without repeats. */
function matchesOf(
  u: DeviceUpdate,
  ws: WorkingSet,
): { uid: string; types: Set<string>; mediumOnly: boolean }[] {
  const found = new Map<string, { uid: string; types: Set<string>; mediumOnly: boolean }>();
  for (const id of u.identifiers) {
    const state = ws.identifiers.get(identifierKey(id.type, id.value, u.partition));
    const uid = ws.resolve(state?.uid);
    if (uid === undefined) continue;
    const entry = found.get(uid) ?? { uid, types: new Set<string>(), mediumOnly: true };
    entry.types.add(id.type);
    if (id.confidence !== "medium") entry.mediumOnly = false;
    found.set(uid, entry);
  }
  return [...found.values()];
}

function lastSeen(ws: WorkingSet, uid: string): number {
  return ms(ws.device(uid).row.last_seen_time);
}

/**
 * Hands the address to `d`, taking it from whoever holds it (their alias becomes `replaced`, their
 * address null). A device moving from one address to another records both as aliases.
 */
function claimIp(ws: WorkingSet, d: DeviceState, ip: string, seen: string): void {
  const partition = d.row.partition;
  const holder = ws.ipHolders.get(ipKey(partition, ip));
  if (holder !== undefined && holder !== d.row.uid) {
    const other = ws.devices.get(holder);
    if (other !== undefined && other.row.ip === ip) {
      other.row.ip = null;
      ws.loseAlias({
        device_id: holder,
        alias_type: "ip",
        alias_value: ip,
        partition,
        seen,
        state: "replaced",
        replaced_by: d.row.uid,
      });
    }
  }
  const old = d.row.ip;
  if (typeof old === "string" && old !== ip) {
    if (ws.ipHolders.get(ipKey(partition, old)) === d.row.uid) ws.ipHolders.delete(ipKey(partition, old));
    ws.loseAlias({
      device_id: d.row.uid,
      alias_type: "ip",
      alias_value: old,
      partition,
      seen,
      state: "stale",
      replaced_by: null,
    });
  }
  // A device's first address is its own; an address it moves to (or comes back to) is an alias.
  if (typeof old === "string" || !ws.created.has(d.row.uid))
    ws.sightAlias(d.row.uid, partition, ip, seen, "new");
  d.row.ip = ip;
  ws.ipHolders.set(ipKey(partition, ip), d.row.uid);
}

function releaseIp(ws: WorkingSet, d: DeviceState): void {
  const ip = d.row.ip;
  if (typeof ip !== "string") return;
  const k = ipKey(d.row.partition, ip);
  if (ws.ipHolders.get(k) === d.row.uid) ws.ipHolders.delete(k);
  d.row.ip = null;
}

function union(a: unknown, b: readonly string[]): string[] {
  const base = Array.isArray(a) ? (a as string[]) : [];
  if (b.every((x) => base.includes(x))) return base;
  return [...new Set([...base, ...b])];
}

/** Merges `from` into `to`: `to` fills its gaps from `from`, takes its identifiers; `from` is hidden. */
function merge(ws: WorkingSet, from: string, to: string, reason: string): void {
  const a = ws.device(from);
  const b = ws.device(to);
  const snapshot = { ...a.row };
  for (const state of ws.identifiers.values()) {
    if (state.uid === from) {
      state.uid = to;
      state.dirty = true;
    }
  }
  const freed = a.row.ip;
  releaseIp(ws, a);
  a.row.merged_into = to;
  for (const key of [
    "name",
    "hostname",
    "mac",
    "vendor_name",
    "model",
    "os",
    "device_type",
    "agent_id",
  ] as const) {
    if (b.row[key] === null && a.row[key] !== null) b.row[key] = a.row[key];
  }
  if (b.row.ip === null && typeof freed === "string") claimIp(ws, b, freed, String(b.row.last_seen_time));
  if (ms(a.row.first_seen_time) < ms(b.row.first_seen_time)) b.row.first_seen_time = a.row.first_seen_time;
  b.row.discovery_sources = union(b.row.discovery_sources, (a.row.discovery_sources as string[]) ?? []);
  b.row.tags = union(b.row.tags, (a.row.tags as string[]) ?? []);
  ws.merges.push({ from, to, partition: b.row.partition, reason, snapshot });
}

function chooseSurvivor(u: DeviceUpdate, ws: WorkingSet, uids: readonly string[]): string {
  const own = ws.resolve(u.deviceId);
  if (own !== undefined && uids.includes(own)) return own;
  // matchesOf lists devices in the order of the update's identifiers, strongest first.
  const first = uids[0];
  if (first !== undefined) return first;
  return [...uids].sort((x, y) => lastSeen(ws, y) - lastSeen(ws, x))[0] ?? "";
}

function newDevice(u: DeviceUpdate, ws: WorkingSet): string | Rejection {
  if (ws.allowance !== null && ws.allowance <= 0) {
    return { index: u.index, reason: "the tenant has reached its device limit (max_devices)" };
  }
  const ids: Record<string, string> = {};
  for (const id of u.identifiers) ids[id.type] = id.value;
  if (u.ip !== undefined) ids.ip = u.ip;
  let uid =
    u.deviceId !== undefined && CANONICAL_ID.test(u.deviceId)
      ? u.deviceId
      : canonicalId({ partition: u.partition, ids });
  const existing = ws.devices.get(uid);
  if (existing !== undefined) {
    // The same identifiers named a device before; it lost them (or they moved): revive it unless merged.
    if (existing.row.merged_into === null) return uid;
    uid = canonicalId({ partition: u.partition, ids: {} });
  }
  ws.addDevice(emptyRow(uid, u), false);
  ws.created.add(uid);
  if (ws.allowance !== null) ws.allowance -= 1;
  return uid;
}

const SPECIAL = new Set(["ip", "is_available"]);

function applyAttributes(u: DeviceUpdate, ws: WorkingSet, d: DeviceState): void {
  const row = d.row;
  const seen = u.seenAt.getTime();
  const trust = sourceConfidence(u.source);
  const sources = { ...(row.field_sources as Record<string, string>) };
  let sourcesChanged = false;
  const mayWrite = (attr: string) => {
    const by = sources[attr];
    return by === undefined || trust >= sourceConfidence(by);
  };
  const newest = seen >= ms(row.last_seen_time);
  for (const [attr, value] of Object.entries(u.attributes)) {
    if (SPECIAL.has(attr)) continue;
    if (!mayWrite(attr)) continue;
    const key = attr as keyof DeviceRow;
    if (row[key] !== value) {
      (row as Record<string, unknown>)[key] = value;
      if (sources[attr] !== u.source) {
        sources[attr] = u.source;
        sourcesChanged = true;
      }
    }
  }
  const claims =
    u.ip !== undefined &&
    mayWrite("ip") &&
    (row.ip !== u.ip || ws.ipHolders.get(ipKey(row.partition, u.ip)) !== row.uid);
  if (claims && u.ip !== undefined) {
    claimIp(ws, d, u.ip, iso(seen));
    if (sources.ip !== u.source) {
      sources.ip = u.source;
      sourcesChanged = true;
    }
  }
  if (
    typeof u.attributes.is_available === "boolean" &&
    newest &&
    row.is_available !== u.attributes.is_available
  ) {
    row.is_available = u.attributes.is_available;
  }
  if (sourcesChanged) row.field_sources = sources;
  if (seen > ms(row.last_seen_time)) row.last_seen_time = iso(seen);
  if (seen < ms(row.first_seen_time)) row.first_seen_time = iso(seen);
  row.discovery_sources = union(row.discovery_sources, [u.source]);
  if (u.tags !== undefined) row.tags = union(row.tags, u.tags);
  const meta = row.metadata as Record<string, unknown>;
  if (Object.entries(u.metadata).some(([k, v]) => JSON.stringify(meta[k]) !== JSON.stringify(v))) {
    row.metadata = { ...meta, ...u.metadata };
  }
  if (!claims && typeof row.ip === "string") ws.sightAlias(row.uid, row.partition, row.ip, iso(seen), "seen");
}

function applyIdentifiers(u: DeviceUpdate, ws: WorkingSet, uid: string): void {
  const seen = u.seenAt.getTime();
  for (const id of u.identifiers) {
    const key = identifierKey(id.type, id.value, u.partition);
    const state = ws.identifiers.get(key);
    if (state === undefined) {
      ws.identifiers.set(key, {
        uid,
        confidence: id.confidence,
        source: u.source,
        sightings: 1,
        firstSeen: seen,
        lastSeen: seen,
        dirty: true,
      });
    } else if (ws.resolve(state.uid) === uid && seen > state.lastSeen) {
      // A later sighting counts (a replay does not). Past the second sighting of a non-MAC strong
      // identifier, which promotes, sightings are only recorded an hour apart: the identifier's
      // last_seen has an hour's granularity, and a steady stream of updates rewrites no identifiers.
      const promotes = isNonMacStrong(id) && state.sightings < 2;
      if (promotes || seen - state.lastSeen >= IDENTIFIER_REFRESH_MS) {
        state.sightings += 1;
        state.lastSeen = seen;
        state.dirty = true;
      }
    }
  }
}

/** Two sightings of a non-MAC strong identifier (or two such types at once) make the identity firm. */
function promote(u: DeviceUpdate, ws: WorkingSet, d: DeviceState): void {
  if (d.row.identity_state !== "provisional") return;
  const strong = u.identifiers.filter(isNonMacStrong);
  const seenTwice = strong.some(
    (id) => (ws.identifiers.get(identifierKey(id.type, id.value, u.partition))?.sightings ?? 0) >= 2,
  );
  if (new Set(strong.map((id) => id.type)).size >= 2 || seenTwice) d.row.identity_state = "promoted";
}

/** Applies one update; returns a rejection when it cannot be applied (nothing of it is kept then). */
export function reconcile(u: DeviceUpdate, ws: WorkingSet): Rejection | undefined {
  const matches = matchesOf(u, ws);
  let target: string | undefined;
  if (matches.length === 0) {
    const own = ws.resolve(u.deviceId);
    target = own ?? (u.ip !== undefined ? ws.ipHolders.get(ipKey(u.partition, u.ip)) : undefined);
  } else if (matches.length === 1) {
    target = matches[0]?.uid;
  } else {
    const survivor = chooseSurvivor(
      u,
      ws,
      matches.map((m) => m.uid),
    );
    for (const m of matches) {
      if (m.uid === survivor) continue;
      if ([...m.types].every((t) => t === "mac")) {
        const reason = m.mediumOnly
          ? "only locally administered MAC addresses in common"
          : "only MAC addresses in common";
        ws.blocked.push({
          from_device_id: m.uid,
          to_device_id: survivor,
          partition: u.partition,
          outcome: "blocked",
          reason,
          identifiers: [],
          snapshot: {},
        });
      } else {
        merge(ws, m.uid, survivor, `shared ${[...m.types].join(", ")}`);
      }
    }
    target = survivor;
  }
  if (u.deleted) {
    if (target === undefined) return undefined;
    const d = ws.device(target);
    if (d.row.deleted_at === null) {
      const ip = d.row.ip;
      releaseIp(ws, d);
      if (typeof ip === "string")
        ws.loseAlias({
          device_id: target,
          alias_type: "ip",
          alias_value: ip,
          partition: d.row.partition,
          seen: iso(u.seenAt.getTime()),
          state: "stale",
          replaced_by: null,
        });
      d.row.deleted_at = iso(u.seenAt.getTime());
      ws.deletedNow.add(target);
    }
    return undefined;
  }
  if (target === undefined) {
    const made = newDevice(u, ws);
    if (typeof made !== "string") return made;
    target = made;
  }
  const d = ws.device(target);
  if (d.row.deleted_at !== null && u.seenAt.getTime() > ms(d.row.deleted_at)) d.row.deleted_at = null;
  if (d.row.deleted_at !== null) return undefined;
  applyAttributes(u, ws, d);
  applyIdentifiers(u, ws, target);
  promote(u, ws, d);
  return undefined;
}
