import { describe, expect, it } from "vitest";
import { isLocallyAdministered, normalizeMac } from "../../src/domains/inventory/dire/identifiers.js";
import { IdentityCache } from "../../src/domains/inventory/dire/identity-cache.js";
import { sourceConfidence } from "../../src/domains/inventory/dire/sources.js";
import { isRejection, parseUpdate } from "../../src/domains/inventory/dire/update.js";

const now = new Date("2026-12-02T00:00:00Z");

describe("DIRE identifiers", () => {
  it("normalises MACs: trimmed, upper-case, separators removed", () => {
    expect(normalizeMac("  aa:bb:cc:dd:ee:ff ")).toBe("AABBCCDDEEFF");
    expect(normalizeMac("aabb.ccdd.eeff")).toBe("AABBCCDDEEFF");
    expect(normalizeMac("AA-BB-CC-DD-EE-FF")).toBe("AABBCCDDEEFF");
  });

  it("tells locally administered MACs by bit 0x02 of the first octet", () => {
    expect(isLocallyAdministered("02AABBCCDDEE")).toBe(true);
    expect(isLocallyAdministered("AEAABBCCDDEE")).toBe(true);
    expect(isLocallyAdministered("00AABBCCDDEE")).toBe(false);
    expect(isLocallyAdministered("FCAABBCCDDEE")).toBe(false);
  });

  it("ranks sources: manual > snmp > mapper = agent > armis = netbox > sweep > unknown", () => {
    const order = ["manual", "snmp", "mapper", "agent", "armis", "netbox", "sweep", "whatever"].map(
      sourceConfidence,
    );
    expect(order).toEqual([10, 9, 8, 8, 7, 7, 5, 1]);
  });
});

describe("DIRE update parsing", () => {
  it("orders identifiers by priority and defaults the partition", () => {
    const u = parseUpdate(
      {
        ip: "10.0.0.1",
        mac: "02:00:00:00:00:01",
        source: "Armis",
        agent_id: "ag",
        metadata: { netbox_device_id: 7, armis_device_id: "A", integration_id: "I" },
      },
      3,
      now,
    );
    if (isRejection(u)) throw new Error(u.reason);
    expect(u.partition).toBe("default");
    expect(u.source).toBe("armis");
    expect(u.seenAt).toEqual(now);
    expect(u.identifiers.map((i) => `${i.type}:${i.value}:${i.confidence}`)).toEqual([
      "agent_id:ag:strong",
      "armis_device_id:A:strong",
      "integration_id:I:strong",
      "netbox_device_id:7:strong",
      "mac:020000000001:medium",
    ]);
  });

  it("rejects with the index and the offending field", () => {
    expect(parseUpdate({ ip: "300.1.1.1", source: "x" }, 5, now)).toEqual({
      index: 5,
      reason: "ip: not an IPv4 or IPv6 address",
    });
    expect(parseUpdate({ ip: "10.0.0.1" }, 1, now)).toMatchObject({
      index: 1,
      reason: expect.stringMatching(/^source: /),
    });
    expect(parseUpdate({ source: "x" }, 2, now)).toMatchObject({
      index: 2,
      reason: expect.stringMatching(/no identifier/),
    });
    expect(parseUpdate([], 0, now)).toMatchObject({ index: 0 });
  });

  it("reads _deleted as a soft delete, as a boolean or a string", () => {
    const a = parseUpdate({ ip: "10.0.0.1", source: "x", metadata: { _deleted: "true" } }, 0, now);
    const b = parseUpdate({ ip: "10.0.0.1", source: "x", metadata: { _deleted: true } }, 0, now);
    expect(!isRejection(a) && a.deleted && !isRejection(b) && b.deleted).toBe(true);
  });
});

describe("DIRE identity cache", () => {
  const entry = {
    uid: "sr:x",
    confidence: "strong" as const,
    source: "armis",
    sightings: 1,
    firstSeen: 0,
    lastSeen: 0,
  };

  it("drops a tenant's entries on invalidation only", () => {
    const cache = new IdentityCache({ ttlMs: 50 });
    cache.set("t1", "k", entry);
    cache.set("t2", "k", entry);
    expect(cache.get("t1", "k")?.uid).toBe("sr:x");
    cache.invalidateTenant("t1");
    expect(cache.get("t1", "k")).toBeUndefined();
    expect(cache.get("t2", "k")?.uid).toBe("sr:x");
  });

  it("forgets an entry once its TTL has passed", async () => {
    const cache = new IdentityCache({ ttlMs: 20 });
    cache.set("t1", "k", entry);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(cache.get("t1", "k")).toBeUndefined();
  });

  it("evicts the oldest entries beyond its bound", () => {
    const cache = new IdentityCache({ maxEntries: 2 });
    cache.set("t", "a", entry);
    cache.set("t", "b", entry);
    cache.set("t", "c", entry);
    expect(cache.size).toBe(2);
    expect(cache.get("t", "a")).toBeUndefined();
    expect(cache.get("t", "c")).toBeDefined();
  });
});
