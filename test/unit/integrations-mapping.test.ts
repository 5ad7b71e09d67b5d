import { describe, expect, it } from "vitest";
import { armisUpdate } from "../../src/domains/integrations/armis/mapping.js";
import { retryAfterMs, retryDelayMs } from "../../src/domains/integrations/http/policy.js";
import { netboxUpdate } from "../../src/domains/integrations/netbox/mapping.js";
import { parseUpdate, isRejection } from "../../src/domains/inventory/dire/update.js";
import { armisRecord } from "../support/fake-armis.js";
import { netboxRecord } from "../support/fake-netbox.js";

describe("Armis → DeviceUpdate", () => {
  it("maps identifiers, names, vendor, OS, risk, tags and the last sighting", () => {
    expect(armisUpdate(armisRecord(7), "dc-1")).toEqual({
      source: "armis",
      partition: "dc-1",
      ip: "10.20.0.8",
      mac: "00:1a:2b:14:00:07",
      hostname: "armis-device-7",
      name: "armis-device-7",
      type: "Switches",
      vendor_name: "Cisco",
      model: "C9300",
      os: "IOS-XE",
      risk_level: "high",
      tags: ["armis", "site-1"],
      timestamp: "2026-01-02T00:00:07.000Z",
      metadata: { armis_device_id: "7", integration_type: "armis" },
    });
  });

  it("drops what DeviceUpdate would refuse, keeping the device", () => {
    const update = armisUpdate(
      {
        id: 9,
        ipAddress: "10.0.0.1, 10.0.0.2",
        macAddress: "nope",
        name: "  ",
        riskLevel: "Unknown",
        tags: [1, "", "x"],
      },
      "default",
    );
    expect(update).toEqual({
      source: "armis",
      partition: "default",
      tags: ["1", "x"],
      metadata: { armis_device_id: "9", integration_type: "armis" },
    });
    expect(isRejection(parseUpdate(update, 0, new Date()))).toBe(false);
  });

  it("skips records that name no device or cannot be read", () => {
    expect(
      armisUpdate({ id: null, ipAddress: null, macAddress: null, name: "ghost" }, "default"),
    ).toBeUndefined();
    expect(armisUpdate({ id: { nested: true } }, "default")).toBeUndefined();
    expect(armisUpdate("not a record", "default")).toBeUndefined();
  });

  it("keeps a device known by IP or MAC alone", () => {
    expect(armisUpdate({ ipAddress: "192.0.2.4" }, "default")?.ip).toBe("192.0.2.4");
    expect(armisUpdate({ macAddress: "00-1A-2B-3C-4D-5E" }, "default")?.mac).toBe("00-1A-2B-3C-4D-5E");
  });
});

describe("NetBox → DeviceUpdate", () => {
  it("maps the id, the primary IP without its prefix length, vendor, model and platform", () => {
    expect(netboxUpdate(netboxRecord(3), "hq")).toEqual({
      source: "netbox",
      partition: "hq",
      ip: "10.30.0.4",
      hostname: "nb-device-3",
      name: "nb-device-3",
      vendor_name: "Arista",
      model: "DCS-7050SX3",
      os: "EOS",
      metadata: {
        netbox_device_id: "3",
        integration_type: "netbox",
        netbox_site: "HQ",
        netbox_role: "Leaf",
        netbox_status: "active",
      },
    });
  });

  it("falls back to primary_ip (IPv6 too) and leaves out a missing platform", () => {
    const update = netboxUpdate(
      { id: 4, name: "v6", primary_ip4: null, primary_ip: { address: "2001:db8::1/64" }, platform: null },
      "default",
    );
    expect(update?.ip).toBe("2001:db8::1");
    expect(update).not.toHaveProperty("os");
    expect(isRejection(parseUpdate(update, 0, new Date()))).toBe(false);
  });

  it("skips records with neither id nor primary IP", () => {
    expect(
      netboxUpdate({ id: null, name: "ghost", primary_ip4: null, primary_ip: null }, "default"),
    ).toBeUndefined();
  });
});

describe("HTTP retry timing", () => {
  it("reads Retry-After as seconds or as an HTTP date", () => {
    expect(retryAfterMs("3")).toBe(3_000);
    expect(retryAfterMs("Wed, 21 Oct 2015 07:28:05 GMT", Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(
      5_000,
    );
    expect(retryAfterMs("soon")).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });

  it("backs off exponentially with jitter, capped, and caps Retry-After too", () => {
    const policy = { timeoutMs: 1_000, maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000 };
    const first = retryDelayMs(policy, 1, undefined);
    const third = retryDelayMs(policy, 3, undefined);
    expect(first).toBeGreaterThanOrEqual(100);
    expect(first).toBeLessThanOrEqual(150);
    expect(third).toBeGreaterThanOrEqual(400);
    expect(third).toBeLessThanOrEqual(600);
    expect(retryDelayMs(policy, 10, undefined)).toBe(1_000);
    expect(retryDelayMs(policy, 1, 60_000)).toBe(1_000);
    expect(retryDelayMs(policy, 1, 250)).toBe(250);
  });
});
