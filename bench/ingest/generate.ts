/**
 * The ingest benchmark's data: a deterministic (seeded) inventory of true devices and the updates two
 * sources send about them, as the sync API receives them.
 *
 * - Armis: one update per device (`metadata.armis_device_id`, IP, globally administered MAC, hostname,
 *   vendor, model, OS).
 * - NetBox: a record for `overlap` of the Armis devices (`metadata.netbox_device_id`, same IP and
 *   hostname); half of them carry the device's MAC (matched by MAC), half carry none, so that only the
 *   IP fallback can tie them to the Armis device. Plus `netboxOnly` devices that Armis never saw.
 *
 * Both sources' records are shuffled together (an Armis record and its NetBox twin may share a batch,
 * or the NetBox one may come first). The update pass repeats every record a day later, in another
 * order, with `churn` of the devices on a new IP from a range pass 1 never used (172.16.0.0/12).
 */
import type { DeviceUpdateInput } from "../../src/domains/inventory/dire/update.js";

export interface GenerateOptions {
  /** Armis updates (= devices Armis knows). */
  readonly updates: number;
  readonly seed: number;
  /** Share of the Armis devices that NetBox also knows. */
  readonly overlap?: number;
  /** NetBox-only devices, as a share of `updates`. */
  readonly netboxOnly?: number;
  /** Share of the true devices on a new IP in the update pass. */
  readonly churn?: number;
  /**
   * When set, a device's two records (Armis and NetBox) never share a batch of this size: they are
   * still interleaved, but each batch names a device once at most.
   */
  readonly separateTwins?: number;
}

export interface Dataset {
  readonly pass1: readonly DeviceUpdateInput[];
  readonly pass2: readonly DeviceUpdateInput[];
  /** Distinct real devices behind the updates: what the canonical count must be. */
  readonly trueDevices: number;
  readonly armis: number;
  readonly netboxOverlap: number;
  readonly netboxOverlapWithMac: number;
  readonly netboxOnly: number;
  /** Devices on a new IP in pass 2, and those IPs. */
  readonly churned: number;
  readonly churnedIps: readonly string[];
}

/** mulberry32: small, fast, good enough to shuffle benchmark data reproducibly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
  return items;
}

export const SITES = [
  "ams", "atl", "bos", "chi", "dal", "den", "dfw", "fra", "hkg", "iad",
  "jfk", "lax", "lhr", "mad", "mia", "mil", "mrs", "nrt", "ord", "par",
  "phx", "sea", "sfo", "sin", "sjc", "sto", "syd", "tyo", "vie", "waw",
  "yul", "yyz", "zrh", "ber", "bcn", "cph", "dub", "hel", "lis", "osl",
] as const; // prettier-ignore

/** Device roles, each with what Armis would report about such a device. */
export const ROLES = [
  { role: "sw", vendor: "Cisco", model: "Catalyst 9300", os: "IOS-XE 17.9", typeId: 10 },
  { role: "rtr", vendor: "Juniper", model: "MX204", os: "Junos 22.4", typeId: 12 },
  { role: "fw", vendor: "Palo Alto Networks", model: "PA-3220", os: "PAN-OS 11.0", typeId: 9 },
  { role: "ap", vendor: "Ubiquiti", model: "U6-Pro", os: "UniFi 6.5", typeId: 7 },
  { role: "srv", vendor: "Dell", model: "PowerEdge R650", os: "Ubuntu 22.04", typeId: 1 },
  { role: "cam", vendor: "Axis", model: "P3265-LVE", os: "AXIS OS 11", typeId: 7 },
  { role: "prn", vendor: "HP", model: "LaserJet M507", os: "FutureSmart 5", typeId: 99 },
  { role: "ups", vendor: "APC", model: "Smart-UPS 3000", os: "NMC 7.0", typeId: 7 },
] as const;

/** Globally administered, unicast OUIs (bits 0x02 and 0x01 of the first octet clear). */
const OUIS = ["001EBD", "3CFDFE", "F09FC2", "A4BADB", "D4F5EF", "0050C2", "7483EF", "B8AF67"] as const;

/** 10.x.y.z for device k: hosts .1–.250, so no network or broadcast-looking addresses. */
export function deviceIp(k: number, firstOctet = 10, secondBase = 0): string {
  const host = 1 + (k % 250);
  const third = Math.floor(k / 250) % 256;
  const second = secondBase + Math.floor(k / 64_000);
  return `${firstOctet}.${second}.${third}.${host}`;
}

function deviceMac(k: number, colons: boolean): string {
  const hex = `${OUIS[k % OUIS.length]}${(k & 0xffffff).toString(16).toUpperCase().padStart(6, "0")}`;
  return colons ? (hex.match(/../g) ?? []).join(":").toLowerCase() : hex;
}

interface TrueDevice {
  readonly k: number;
  readonly armisId: number | undefined;
  readonly netboxId: number | undefined;
  readonly netboxKnowsMac: boolean;
}

/**
 * Keeps the order but moves a record whose device already has one in the current batch to the start of
 * the next batch (its twin is then in the batch before: a device has two records at most).
 */
function separate<T extends { k: number }>(records: readonly T[], batch: number): T[] {
  const out: T[] = [];
  let inBatch = new Set<number>();
  let deferred: T[] = [];
  const put = (r: T) => {
    if (out.length % batch === 0) inBatch = new Set();
    out.push(r);
    inBatch.add(r.k);
  };
  for (const r of records) {
    if (out.length % batch === 0 && deferred.length > 0) {
      const next = deferred;
      deferred = [];
      for (const d of next) {
        if (out.length % batch === 0 || !inBatch.has(d.k)) put(d);
        else deferred.push(d);
      }
    }
    if (inBatch.has(r.k) && out.length % batch !== 0) deferred.push(r);
    else put(r);
  }
  for (const d of deferred) {
    if (out.length % batch === 0 || !inBatch.has(d.k)) {
      put(d);
      continue;
    }
    // The last batch holds its twin: trade places with a record of an earlier batch that holds
    // neither this device nor a twin of the record moving into the last batch.
    const last = Math.floor(out.length / batch) * batch;
    const j = out.findIndex((r, i) => {
      if (i >= last || inBatch.has(r.k)) return false;
      const start = Math.floor(i / batch) * batch;
      return !out.slice(start, start + batch).some((x) => x.k === d.k);
    });
    const swapped = out[j];
    if (swapped === undefined) throw new Error("cannot keep twins apart");
    out[j] = d;
    put(swapped);
  }
  return out;
}

const DAY_MS = 86_400_000;
const PASS1_START = Date.parse("2026-12-01T00:00:00Z");

export function generate(opts: GenerateOptions): Dataset {
  const random = prng(opts.seed);
  const armis = opts.updates;
  const overlap = Math.round(armis * (opts.overlap ?? 0.3));
  const netboxOnly = Math.round(armis * (opts.netboxOnly ?? 0.05));
  const total = armis + netboxOnly;
  const churned = Math.round(total * (opts.churn ?? 0.05));

  // Which Armis devices NetBox knows, and for which of those it knows the MAC.
  const overlapSet = new Set(shuffle([...Array(armis).keys()], random).slice(0, overlap));
  let netboxSeq = 0;
  let withMac = 0;
  const truth: TrueDevice[] = [];
  for (let k = 0; k < total; k++) {
    const isArmis = k < armis;
    const inNetbox = !isArmis || overlapSet.has(k);
    const knowsMac = inNetbox && netboxSeq % 2 === 0;
    if (isArmis && knowsMac) withMac++;
    truth.push({
      k,
      armisId: isArmis ? 1_000_000 + k : undefined,
      netboxId: inNetbox ? 20_000 + netboxSeq++ : undefined,
      netboxKnowsMac: knowsMac,
    });
  }
  const churnSet = new Set(shuffle([...Array(total).keys()], random).slice(0, churned));
  const churnedIps: string[] = [];
  for (const k of [...churnSet].sort((a, b) => a - b)) churnedIps.push(deviceIp(k, 172, 16));

  const records = (pass: 1 | 2): DeviceUpdateInput[] => {
    const out: { k: number; u: DeviceUpdateInput }[] = [];
    const base = PASS1_START + (pass - 1) * DAY_MS;
    for (const d of truth) {
      const r = ROLES[d.k % ROLES.length] ?? ROLES[0];
      const site = SITES[Math.floor(d.k / ROLES.length) % SITES.length] ?? SITES[0];
      const hostname = `${site}-${r.role}-${String(d.k).padStart(6, "0")}`;
      const ip = pass === 2 && churnSet.has(d.k) ? deviceIp(d.k, 172, 16) : deviceIp(d.k);
      const at = () => new Date(base + Math.floor(random() * 3_600_000)).toISOString();
      if (d.armisId !== undefined) {
        out.push({
          k: d.k,
          u: {
            source: "armis",
            ip,
            mac: deviceMac(d.k, true),
            hostname,
            name: hostname,
            vendor_name: r.vendor,
            model: r.model,
            os: r.os,
            type_id: r.typeId,
            is_available: random() < 0.9,
            timestamp: at(),
            metadata: { armis_device_id: d.armisId, integration_type: "armis", site },
          },
        });
      }
      if (d.netboxId !== undefined) {
        out.push({
          k: d.k,
          u: {
            source: "netbox",
            ip,
            ...(d.netboxKnowsMac ? { mac: deviceMac(d.k, false) } : {}),
            hostname,
            vendor_name: r.vendor,
            model: r.model,
            type_id: r.typeId,
            timestamp: at(),
            metadata: { netbox_device_id: d.netboxId, integration_type: "netbox", site },
          },
        });
      }
    }
    shuffle(out, random);
    return (opts.separateTwins === undefined ? out : separate(out, opts.separateTwins)).map((r) => r.u);
  };
  const pass1 = records(1);
  const pass2 = records(2);
  return {
    pass1,
    pass2,
    trueDevices: total,
    armis,
    netboxOverlap: overlap,
    netboxOverlapWithMac: withMac,
    netboxOnly,
    churned,
    churnedIps,
  };
}
